"""Incentive contracts: offers to people and their answers, operators' campaigns, users' trips, redemptions.

``crowd.counts``: people crossing a watched zone per minute; ``incentives.offers``: an offer to one
person (the simulator also answers offers of any type that carries the same fields);
``incentives.responses``: the answer (or its expiry); ``city.anomalies``: a count far from its usual level.
The campaign service's contracts live here too: ``incentives.campaigns`` (launch, pause, resume, revise,
stop, each round's summary), ``incentives.users`` (expected trips, opt-outs), ``incentives.redemptions``
(codes presented, rewards redeemed once, refusals) and ``crowd.forecasts`` (a zone's expected load over a day).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from shared.contracts.base import AnyTopic, Payload, Topic

OfferKind = Literal["shift_later", "shift_earlier", "other_exit", "other_mall", "shared_mobility", "ev_charge_now"]


class IncentiveOfferMade(Payload):
    """An offer to one person: do ``offer_type`` (e.g. leave 20 minutes later) and receive ``reward_yen``."""

    event_type: ClassVar[str] = "incentives.offer.made"
    offer_id: str = Field(min_length=1, max_length=64)
    user: str = Field(min_length=1, max_length=64)
    offer_type: OfferKind
    reward_yen: int = Field(ge=0, le=100_000)
    shift_min: int = Field(default=0, ge=0, le=240)
    purpose: str | None = Field(default=None, max_length=32, description="trip purpose if known")
    zone: str | None = Field(default=None, max_length=64)
    campaign: str | None = Field(default=None, max_length=64)
    # From the campaign service: what was offered, the code to redeem, and why (the decision's numbers).
    catalogue_offer: str | None = Field(default=None, max_length=64)
    shop: str | None = Field(default=None, max_length=64)
    code: str | None = Field(default=None, max_length=32)
    made_at: datetime | None = None
    expires_at: datetime | None = None
    acceptance: float | None = Field(default=None, ge=0, le=1)
    expected_effect: float | None = Field(default=None, ge=0)
    expected_cost_yen: float | None = Field(default=None, ge=0)
    why_user: str | None = Field(default=None, max_length=500)
    why_offer: str | None = Field(default=None, max_length=500)

    def key(self) -> str:
        return self.user


class IncentiveOfferAnswered(Payload):
    """The person's answer; ``probability`` is the model's acceptance probability (simulated people only)."""

    event_type: ClassVar[str] = "incentives.offer.answered"
    offer_id: str
    user: str
    accepted: bool
    probability: float | None = Field(default=None, ge=0, le=1)
    responder: str = Field(default="simulator", max_length=64)

    def key(self) -> str:
        return self.user


CatalogueKind = Literal["coupon", "shift_later", "shift_earlier", "other_exit", "other_mall", "shared_mobility",
                        "ev_charge_now"]
ClockTime = Annotated[str, Field(pattern=r"^(([01][0-9]|2[0-3]):[0-5][0-9]|24:00)$", description="hh:mm local")]


def _minutes(value: str) -> int:
    hours, minutes = value.split(":")
    return int(hours) * 60 + int(minutes)


# --------------------------------------------------------------------------- campaigns (operators)


class CatalogueOffer(BaseModel):
    """One offer of a campaign's catalogue (what the person is asked, what they get when it is redeemed)."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    offer_id: str = Field(min_length=1, max_length=64)
    kind: CatalogueKind
    reward_yen: int = Field(gt=0, le=100_000)
    shift_min: int = Field(default=0, ge=0, le=240)
    shop: str | None = Field(default=None, max_length=64)
    label: str = Field(default="", max_length=200)


class CampaignLaunched(Payload):
    """An operator's campaign: goal, budget, catalogue, targeting and fairness caps, for one service day.

    Times of day are ``hh:mm`` local time; ``day`` is the local date the campaign runs. ``guard_yen`` is what
    the operator funds: the most the campaign could owe if every open offer were accepted.
    """

    event_type: ClassVar[str] = "incentives.campaign.launched"
    campaign_id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")
    operator: str = Field(min_length=1, max_length=64)
    day: date
    goal_kind: Literal["cut_load", "lift_footfall", "fill_chargers"]
    place: str = Field(min_length=1, max_length=64)
    window: tuple[ClockTime, ClockTime]
    share: float = Field(gt=0, le=1)
    focus: Literal["window", "peak"] = "window"
    daily_budget_yen: int = Field(gt=0, le=1_000_000_000)
    guard_yen: int = Field(gt=0, le=10_000_000_000)
    offers: tuple[CatalogueOffer, ...] = Field(min_length=1, max_length=32)
    excluded_segments: dict[str, str] = Field(default_factory=dict)
    segments: tuple[str, ...] | None = None
    segments_reason: str = ""
    max_offers_per_user_per_day: int = Field(default=2, ge=1, le=50)
    quiet_hours: tuple[ClockTime, ClockTime] | None = ("22:00", "06:00")
    pause_after_declines: int = Field(default=3, ge=1, le=100)
    decline_factor: float = Field(default=0.6, gt=0, le=1)
    min_offers_per_segment: int = Field(default=0, ge=0, le=1000)
    round_minutes: int = Field(default=5, ge=1, le=120)
    valid_minutes: int = Field(default=30, ge=1, le=24 * 60)
    prior_acceptance: float = Field(default=0.15, gt=0, lt=1, description="acceptance guess before any answer")

    @model_validator(mode="after")
    def _rules(self) -> CampaignLaunched:
        if _minutes(self.window[0]) >= _minutes(self.window[1]):
            raise ValueError("window: the start must come before the end")
        if self.guard_yen < self.daily_budget_yen:
            raise ValueError("guard_yen: must be at least daily_budget_yen (it is the funded maximum)")
        ids = [o.offer_id for o in self.offers]
        if len(set(ids)) != len(ids):
            raise ValueError("offers: offer ids must be unique")
        for o in self.offers:
            if o.kind in ("shift_later", "shift_earlier", "coupon") and o.shift_min == 0:
                raise ValueError(f"offers.{o.offer_id}.shift_min: a {o.kind} offer moves the trip by at least 1 min")
            if o.kind == "coupon" and not o.shop:
                raise ValueError(f"offers.{o.offer_id}.shop: a coupon names the shop that redeems it")
        for segment, why in self.excluded_segments.items():
            if not why.strip():
                raise ValueError(f"excluded_segments.{segment}: a segment is left out only with a reason")
        if self.segments is not None and not self.segments_reason.strip():
            raise ValueError("segments_reason: limiting offers to some segments needs a reason")
        if self.goal_kind == "fill_chargers" and not any(o.kind == "ev_charge_now" for o in self.offers):
            raise ValueError("offers: a fill_chargers goal needs an ev_charge_now offer")
        return self

    def key(self) -> str:
        return self.campaign_id


class CampaignStopped(Payload):
    event_type: ClassVar[str] = "incentives.campaign.stopped"
    campaign_id: str
    reason: str = Field(default="", max_length=200)

    def key(self) -> str:
        return self.campaign_id


class CampaignPaused(Payload):
    """The operator pauses a campaign: no new rounds plan offers; offers already made stay valid and redeemable."""

    event_type: ClassVar[str] = "incentives.campaign.paused"
    campaign_id: str = Field(min_length=1, max_length=64)
    reason: str = Field(default="", max_length=200)

    def key(self) -> str:
        return self.campaign_id


class CampaignResumed(Payload):
    """A paused campaign plans rounds again (a stopped one does not: stopping is final)."""

    event_type: ClassVar[str] = "incentives.campaign.resumed"
    campaign_id: str = Field(min_length=1, max_length=64)

    def key(self) -> str:
        return self.campaign_id


REVISABLE = ("daily_budget_yen", "guard_yen", "max_offers_per_user_per_day", "pause_after_declines", "valid_minutes")


class CampaignChanges(BaseModel):
    """What a revision may change (only the fields given change); the body of the gateway's revision route."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    daily_budget_yen: int | None = Field(default=None, gt=0, le=1_000_000_000)
    guard_yen: int | None = Field(default=None, gt=0, le=10_000_000_000)
    max_offers_per_user_per_day: int | None = Field(default=None, ge=1, le=50)
    pause_after_declines: int | None = Field(default=None, ge=1, le=100)
    valid_minutes: int | None = Field(default=None, ge=1, le=24 * 60)

    @model_validator(mode="after")
    def _rules(self) -> CampaignChanges:
        if all(getattr(self, name) is None for name in REVISABLE):
            raise ValueError(f"body: name at least one of {', '.join(REVISABLE)} to change")
        if self.daily_budget_yen is not None and self.guard_yen is not None and self.guard_yen < self.daily_budget_yen:
            raise ValueError("guard_yen: must be at least daily_budget_yen (it is the funded maximum)")
        return self

    def changes(self) -> dict[str, int]:
        return {name: value for name in REVISABLE if (value := getattr(self, name)) is not None}


class CampaignRevisionRequested(Payload, CampaignChanges):
    """An operator asks to change a running campaign's budget, guard, caps or offer validity. The campaign
    service decides: :class:`CampaignRevised` or :class:`CampaignRevisionRefused`, since only it knows what
    the campaign has already committed."""

    event_type: ClassVar[str] = "incentives.campaign.revision_requested"
    request_id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")
    campaign_id: str = Field(min_length=1, max_length=64)

    def key(self) -> str:
        return self.campaign_id


class CampaignRevised(Payload):
    """The campaign service accepted a revision: the campaign's terms from now on (all of them, not only what
    changed). ``revision`` counts from 1 per campaign; the guard's change (``guard_yen - previous_guard_yen``)
    is funded on, or returned from, the campaign's ledger account, once per revision."""

    event_type: ClassVar[str] = "incentives.campaign.revised"
    request_id: str = Field(min_length=1, max_length=64)
    campaign_id: str = Field(min_length=1, max_length=64)
    operator: str = Field(min_length=1, max_length=64)
    day: date
    revision: int = Field(ge=1, le=10_000)
    previous_guard_yen: int = Field(gt=0, le=10_000_000_000)
    daily_budget_yen: int = Field(gt=0, le=1_000_000_000)
    guard_yen: int = Field(gt=0, le=10_000_000_000)
    max_offers_per_user_per_day: int = Field(ge=1, le=50)
    pause_after_declines: int = Field(ge=1, le=100)
    valid_minutes: int = Field(ge=1, le=24 * 60)

    @model_validator(mode="after")
    def _rules(self) -> CampaignRevised:
        if self.guard_yen < self.daily_budget_yen:
            raise ValueError("guard_yen: must be at least daily_budget_yen (it is the funded maximum)")
        return self

    @property
    def funding_change_yen(self) -> int:
        return self.guard_yen - self.previous_guard_yen

    def key(self) -> str:
        return self.campaign_id


class CampaignRevisionRefused(Payload):
    """The campaign service refused a revision; ``field`` names the field and ``reason`` the rule it breaks."""

    event_type: ClassVar[str] = "incentives.campaign.revision_refused"
    request_id: str = Field(min_length=1, max_length=64)
    campaign_id: str = Field(min_length=1, max_length=64)
    field: str = Field(min_length=1, max_length=64)
    reason: str = Field(min_length=1, max_length=300)

    def key(self) -> str:
        return self.campaign_id


class CampaignRoundPlanned(Payload):
    """What one round decided, with the optimiser's bound and the estimates it used (for the report)."""

    event_type: ClassVar[str] = "incentives.round.planned"
    campaign_id: str
    round_at: datetime
    candidates: int = Field(ge=0)
    offers: int = Field(ge=0)
    expected_effect: float = Field(ge=0)
    expected_cost_yen: float = Field(ge=0)
    gap: float = Field(ge=0)
    method: str
    estimates: tuple[tuple[str, str, float, float], ...] = ()  # (segment, offer, mean, answers)

    def key(self) -> str:
        return self.campaign_id


# --------------------------------------------------------------------------- app users


class TripExpected(Payload):
    """An app user's expected trip through a watched place (from their plan or habit), for targeting."""

    event_type: ClassVar[str] = "incentives.trip.expected"
    user: str = Field(min_length=1, max_length=64)
    segment: str = Field(min_length=1, max_length=32)
    place: str = Field(min_length=1, max_length=64)
    at: datetime
    avoidable: bool = Field(default=False, description="another exit or route takes this trip around the place "
                                                       "within a short detour (so an other_exit offer can work)")

    def key(self) -> str:
        return self.user


class OffersPreference(Payload):
    """An app user opts out of offers (or back in); an opted-out user never receives one."""

    event_type: ClassVar[str] = "incentives.user.preference"
    user: str = Field(min_length=1, max_length=64)
    opted_out: bool

    def key(self) -> str:
        return self.user


class IncentiveOfferExpired(Payload):
    """An offer nobody answered in time: it lapses and counts as a no."""

    event_type: ClassVar[str] = "incentives.offer.expired"
    offer_id: str
    user: str
    campaign: str | None = None

    def key(self) -> str:
        return self.user


# --------------------------------------------------------------------------- redemptions


class RedemptionRequested(Payload):
    """A shop or operator presents a code for redemption."""

    event_type: ClassVar[str] = "incentives.redemption.requested"
    code: str = Field(min_length=4, max_length=32)
    redeemer: str = Field(min_length=1, max_length=64)

    def key(self) -> str:
        return self.code.strip().upper()


class RewardRedeemed(Payload):
    """A code checked and accepted, once: the reward is owed to the user from the campaign's account."""

    event_type: ClassVar[str] = "incentives.reward.redeemed"
    code: str
    offer_id: str
    campaign_id: str
    operator: str
    user: str
    reward_yen: int = Field(gt=0, le=100_000)
    redeemer: str
    at: datetime

    def key(self) -> str:
        return self.code


class RedemptionRefused(Payload):
    event_type: ClassVar[str] = "incentives.redemption.refused"
    code: str
    redeemer: str
    reason: str

    def key(self) -> str:
        return self.code.strip().upper()


OFFERS: Topic[IncentiveOfferMade] = Topic("incentives.offers", key="user", payloads=(IncentiveOfferMade,))
RESPONSES: Topic[IncentiveOfferAnswered | IncentiveOfferExpired] = Topic(
    "incentives.responses", key="user", payloads=(IncentiveOfferAnswered, IncentiveOfferExpired))
CampaignEvent = (CampaignLaunched | CampaignStopped | CampaignRoundPlanned | CampaignPaused | CampaignResumed
                 | CampaignRevisionRequested | CampaignRevised | CampaignRevisionRefused)
CAMPAIGNS: Topic[CampaignEvent] = Topic(
    "incentives.campaigns", key="campaign",
    payloads=(CampaignLaunched, CampaignStopped, CampaignRoundPlanned, CampaignPaused, CampaignResumed,
              CampaignRevisionRequested, CampaignRevised, CampaignRevisionRefused))
USERS: Topic[TripExpected | OffersPreference] = Topic("incentives.users", key="user",
                                                      payloads=(TripExpected, OffersPreference))
REDEMPTIONS: Topic[RedemptionRequested | RewardRedeemed | RedemptionRefused] = Topic(
    "incentives.redemptions", key="code", payloads=(RedemptionRequested, RewardRedeemed, RedemptionRefused),
    retention_ms=None)

TOPICS: tuple[AnyTopic, ...] = (OFFERS, RESPONSES, CAMPAIGNS, USERS, REDEMPTIONS)
