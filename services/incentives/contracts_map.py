"""From the wire to the domain: a CampaignLaunched event becomes a validated Campaign (errors name the field)."""

from __future__ import annotations

from services.incentives.domain.campaign import Budget, Campaign, FairnessCaps, Goal, Targeting, parse_clock
from services.incentives.domain.catalogue import OfferSpec
from shared.contracts.incentives import CampaignLaunched


def campaign_from_event(e: CampaignLaunched) -> Campaign:
    quiet = None if e.quiet_hours is None else (parse_clock(e.quiet_hours[0]), parse_clock(e.quiet_hours[1]))
    return Campaign(
        campaign_id=e.campaign_id, operator=e.operator,
        goal=Goal(e.goal_kind, e.place, (parse_clock(e.window[0]), parse_clock(e.window[1])), e.share, e.focus),
        budget=Budget(daily_yen=e.daily_budget_yen, guard_yen=e.guard_yen),
        catalogue=tuple(OfferSpec(o.offer_id, o.kind, o.reward_yen, o.shift_min, o.shop, o.label) for o in e.offers),
        targeting=Targeting(excluded=dict(e.excluded_segments), segments=e.segments, reason=e.segments_reason),
        caps=FairnessCaps(max_offers_per_user_per_day=e.max_offers_per_user_per_day, quiet_hours=quiet,
                          pause_after_declines=e.pause_after_declines, decline_factor=e.decline_factor,
                          min_offers_per_segment=e.min_offers_per_segment),
        round_minutes=e.round_minutes)
