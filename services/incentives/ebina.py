"""The shipped example campaign: the Odakyu gate line's morning peak at Ebina, eight offers.

Used by the benchmark, the campaign report and the tests, so all three speak of the same campaign.
"""

from __future__ import annotations

from services.incentives.domain.campaign import Budget, Campaign, FairnessCaps, Focus, Goal
from services.incentives.domain.catalogue import OfferSpec

GATE_CATALOGUE = (
    OfferSpec("early10", "shift_earlier", 100, shift_min=10, label="pass the gates 10 minutes earlier"),
    OfferSpec("early20", "shift_earlier", 150, shift_min=20, label="pass the gates 20 minutes earlier"),
    OfferSpec("early30", "shift_earlier", 100, shift_min=30, label="pass the gates 30 minutes earlier"),
    OfferSpec("early30_plus", "shift_earlier", 300, shift_min=30, label="30 minutes earlier, larger reward"),
    OfferSpec("late15", "shift_later", 100, shift_min=15, label="pass the gates 15 minutes later"),
    OfferSpec("late30", "shift_later", 200, shift_min=30, label="pass the gates 30 minutes later"),
    OfferSpec("cafe20", "coupon", 200, shift_min=20, shop="vinawalk-cafe",
              label="coffee coupon at ViNA WALK, then on to the gates (about 20 minutes)"),
    OfferSpec("late45", "shift_later", 400, shift_min=45, label="pass the gates 45 minutes later"),
)
BROADCAST_OFFER = "early30"  # what the simulator's weekday scenario sends everyone today


def gate_campaign(daily_yen: int = 50_000, *, guard_factor: int = 3, focus: Focus = "window",
                  share: float = 0.1, campaign_id: str = "odakyu-gates-am") -> Campaign:
    return Campaign(campaign_id=campaign_id, operator="ebina-station-area",
                    goal=Goal("cut_load", "odakyu_gates", (7 * 60 + 30, 8 * 60 + 30), share, focus=focus),
                    budget=Budget(daily_yen=daily_yen, guard_yen=guard_factor * daily_yen),
                    catalogue=GATE_CATALOGUE,
                    # offers for the morning peak go out from 06:30, half an hour before the earliest shift
                    caps=FairnessCaps(max_offers_per_user_per_day=2, quiet_hours=(22 * 60, 6 * 60)))
