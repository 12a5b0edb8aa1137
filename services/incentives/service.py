"""The campaign service as a :class:`shared.runtime.Service`: campaigns, trips and answers in, offers out.

Topics: consumes ``incentives.campaigns`` (launch, pause, resume, revision requests and its own decisions on
them, stop), ``incentives.users`` (expected trips, opt-outs),
``crowd.forecasts`` (the load curve each goal is judged on), ``incentives.offers`` (its own offers, so the
offer book is rebuilt on restart), ``incentives.responses`` (answers and expiries) and
``incentives.redemptions`` (codes presented; its own redemption results); publishes offers, expiries,
round summaries, revision decisions and redemption results. A timer runs the rounds; a paused or stopped
campaign plans none (its offers already made stay open and redeemable). All state lives in memory and is rebuilt
from those topics at start-up (``Service.replay``); offer ids derive from campaign, user and round, so a
round repeated after a crash sends the same offers, and the ledger pays a reward once per offer id.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import numpy as np

from services.incentives.contracts_map import campaign_from_event
from services.incentives.domain.acceptance import AcceptanceEstimates
from services.incentives.domain.budget import BudgetBook
from services.incentives.domain.campaign import Campaign
from services.incentives.domain.effects import goal_effect
from services.incentives.domain.people import UserHistory
from services.incentives.domain.reconcile import CampaignBooks
from services.incentives.domain.redemption import AnswerRefused, OfferBook, RedemptionRefused
from services.incentives.domain.revision import RevisionRefused, Terms, revise
from services.incentives.domain.rounds import RoundInput, plan_round
from services.incentives.settings import IncentiveSettings
from shared.contracts.base import Envelope, utcnow
from shared.contracts.crowd import FORECASTS, CrowdForecastPublished
from shared.contracts.incentives import (
    CAMPAIGNS,
    OFFERS,
    REDEMPTIONS,
    RESPONSES,
    USERS,
    CampaignLaunched,
    CampaignPaused,
    CampaignResumed,
    CampaignRevised,
    CampaignRevisionRefused,
    CampaignRevisionRequested,
    CampaignRoundPlanned,
    CampaignStopped,
    IncentiveOfferAnswered,
    IncentiveOfferExpired,
    IncentiveOfferMade,
    OffersPreference,
    RedemptionRequested,
    RewardRedeemed,
    TripExpected,
)
from shared.contracts.incentives import RedemptionRefused as RefusedEvent
from shared.errors import DomainError
from shared.runtime import Outgoing, Service, Timer, ignore

log = logging.getLogger(__name__)


RevisionOutcome = CampaignRevised | CampaignRevisionRefused


@dataclass
class CampaignState:
    """One campaign as the service runs it. ``event`` holds its current terms (the launch, revised);
    ``funded_yen`` what its ledger account was funded with: the launch's guard plus each revision's change."""

    event: CampaignLaunched
    campaign: Campaign
    estimates: AcceptanceEstimates
    budget: BudgetBook
    stopped: bool = False
    paused: bool = False
    next_round: datetime | None = None
    offered_users: set[str] = field(default_factory=set)
    revision: int = 0
    funded_yen: int = 0
    # Revision decisions by request id: ``confirmed`` ones were read back from the topic (the truth); the
    # others were decided here and are on their way (later requests are judged on top of them).
    outcomes: dict[str, RevisionOutcome] = field(default_factory=dict)
    confirmed: set[str] = field(default_factory=set)

    def terms(self) -> Terms:
        return Terms.of(self.campaign, self.event.valid_minutes)


class IncentivesService:
    def __init__(self, settings: IncentiveSettings | None = None, clock: Callable[[], datetime] | None = None):
        self.settings = settings or IncentiveSettings()
        self.clock = clock or utcnow
        self.campaigns: dict[str, CampaignState] = {}
        self.trips: dict[str, TripExpected] = {}
        self.history = UserHistory()
        self.book = OfferBook.empty(self.settings.code_secret.encode())
        # the newest forecast per zone and day; a goal is judged on its own day's (else its zone's newest)
        self.forecasts: dict[tuple[str, date], CrowdForecastPublished] = {}
        self.offers: dict[str, IncentiveOfferMade] = {}
        self.pending_answers: dict[str, list[tuple[Envelope, object]]] = {}
        self.rng = np.random.default_rng(self.settings.seed)

    # ------------------------------------------------------------------ helpers
    def _minute(self, moment: datetime) -> int:
        local = moment.astimezone(self.settings.zone)
        return local.hour * 60 + local.minute

    def _day_start(self, state: CampaignState) -> datetime:
        return datetime.combine(state.event.day, datetime.min.time(), self.settings.zone)

    # ------------------------------------------------------------------ campaigns, users, forecasts
    def on_launched(self, _envelope: Envelope, payload: CampaignLaunched) -> Iterable[Outgoing]:
        if payload.campaign_id in self.campaigns:
            return []
        try:
            campaign = campaign_from_event(payload)
        except ValueError as exc:  # a rule the contract cannot check alone: dead-lettered with the reason
            raise DomainError(f"campaign {payload.campaign_id}: {exc}") from None
        segments = self.settings.segments
        offers = tuple(o.offer_id for o in campaign.catalogue)
        prior = np.full((len(segments), len(offers)), payload.prior_acceptance)
        self.campaigns[payload.campaign_id] = CampaignState(
            payload, campaign, AcceptanceEstimates.from_prior(segments, offers, prior, self.settings.prior_strength),
            BudgetBook(campaign.budget), funded_yen=payload.guard_yen)
        log.info("campaign %s launched: %s", payload.campaign_id, campaign.goal.describe())
        return []

    def on_stopped(self, _envelope: Envelope, payload: CampaignStopped) -> Iterable[Outgoing]:
        if payload.campaign_id in self.campaigns:
            self.campaigns[payload.campaign_id].stopped = True
        return []

    def on_paused(self, _envelope: Envelope, payload: CampaignPaused) -> Iterable[Outgoing]:
        """No new rounds; offers already made stay valid, answerable and redeemable."""
        if payload.campaign_id in self.campaigns:
            self.campaigns[payload.campaign_id].paused = True
            log.info("campaign %s paused: %s", payload.campaign_id, payload.reason or "-")
        return []

    def on_resumed(self, _envelope: Envelope, payload: CampaignResumed) -> Iterable[Outgoing]:
        """Rounds again from the next tick (a stopped campaign stays stopped)."""
        state = self.campaigns.get(payload.campaign_id)
        if state is not None and state.paused:
            state.paused = False
            state.next_round = None
        return []

    # ------------------------------------------------------------------ revisions
    def on_revision_requested(self, _envelope: Envelope, payload: CampaignRevisionRequested) -> Iterable[Outgoing]:
        """Judge a revision against what the campaign has committed now; the decision is published, and applied
        when it is read back (so a restart, which re-reads the requests before the offers, applies exactly the
        decisions that were published, not new ones judged on half-rebuilt books)."""
        state = self.campaigns.get(payload.campaign_id)
        if state is None:
            return [self._refused(payload, "campaign_id", f"campaign {payload.campaign_id!r} is not known")]
        if payload.request_id in state.confirmed:  # a redelivery: the same decision again
            return [Outgoing(CAMPAIGNS, state.outcomes[payload.request_id])]
        if state.stopped:
            return [self._refused(payload, "campaign_id", "the campaign is stopped; a stopped campaign is not "
                                                          "revised")]
        terms, revision = state.terms(), state.revision
        for rid, outcome in state.outcomes.items():  # decided here, not yet read back: judged on top of them
            if rid != payload.request_id and rid not in state.confirmed and isinstance(outcome, CampaignRevised):
                terms, revision = _terms_of(outcome), outcome.revision
        try:
            new = revise(terms, payload.changes(), state.budget.expected_committed, state.budget.worst_case_committed)
        except RevisionRefused as exc:
            return [self._refused(payload, exc.field, exc.rule)]
        outcome = CampaignRevised(
            request_id=payload.request_id, campaign_id=payload.campaign_id, operator=state.event.operator,
            day=state.event.day, revision=revision + 1, previous_guard_yen=terms.guard_yen,
            daily_budget_yen=new.daily_budget_yen, guard_yen=new.guard_yen,
            max_offers_per_user_per_day=new.max_offers_per_user_per_day,
            pause_after_declines=new.pause_after_declines, valid_minutes=new.valid_minutes)
        state.outcomes[payload.request_id] = outcome
        return [Outgoing(CAMPAIGNS, outcome)]

    def _refused(self, payload: CampaignRevisionRequested, field_name: str, rule: str) -> Outgoing:
        refused = CampaignRevisionRefused(request_id=payload.request_id, campaign_id=payload.campaign_id,
                                          field=field_name, reason=rule[:300])
        state = self.campaigns.get(payload.campaign_id)
        if state is not None:
            state.outcomes[payload.request_id] = refused
        return Outgoing(CAMPAIGNS, refused)

    def on_revised(self, _envelope: Envelope, payload: CampaignRevised) -> Iterable[Outgoing]:
        """Its own decision, read back: the campaign runs on the new terms. The first decision of each revision
        number counts (the ledger funds each revision's change once, by the same number), later ones with a
        number already applied are stale repeats."""
        state = self.campaigns.get(payload.campaign_id)
        if state is None:
            return []
        state.confirmed.add(payload.request_id)
        state.outcomes.setdefault(payload.request_id, payload)
        if payload.revision <= state.revision:
            log.info("revision %d of %s already applied; %s ignored", payload.revision, payload.campaign_id,
                     payload.request_id)
            return []
        state.outcomes[payload.request_id] = payload
        terms = _terms_of(payload)
        state.revision = payload.revision
        state.funded_yen += payload.funding_change_yen
        state.campaign = terms.applied_to(state.campaign)
        state.budget.budget = state.campaign.budget
        state.event = state.event.model_copy(update={
            "daily_budget_yen": terms.daily_budget_yen, "guard_yen": terms.guard_yen,
            "max_offers_per_user_per_day": terms.max_offers_per_user_per_day,
            "pause_after_declines": terms.pause_after_declines, "valid_minutes": terms.valid_minutes})
        log.info("campaign %s revision %d: budget %d, guard %d yen", payload.campaign_id, payload.revision,
                 terms.daily_budget_yen, terms.guard_yen)
        return []

    def on_revision_refused(self, _envelope: Envelope, payload: CampaignRevisionRefused) -> Iterable[Outgoing]:
        state = self.campaigns.get(payload.campaign_id)
        if state is not None:
            state.confirmed.add(payload.request_id)
            state.outcomes[payload.request_id] = payload
        return []

    def on_trip(self, _envelope: Envelope, payload: TripExpected) -> Iterable[Outgoing]:
        if payload.segment not in self.settings.segments:
            raise DomainError(f"segment: {payload.segment!r} is not one of {', '.join(self.settings.segments)}")
        self.trips[payload.user] = payload
        return []

    def on_preference(self, _envelope: Envelope, payload: OffersPreference) -> Iterable[Outgoing]:
        (self.history.opt_out if payload.opted_out else self.history.opt_in)(payload.user)
        return []

    def on_forecast(self, _envelope: Envelope, payload: CrowdForecastPublished) -> Iterable[Outgoing]:
        self.forecasts[(payload.zone, payload.day)] = payload
        self.forecasts = dict(sorted(self.forecasts.items(), key=lambda kv: kv[0][1])[-64:])  # a bounded few days
        return []

    def _forecast(self, zone: str, day: date) -> CrowdForecastPublished | None:
        found = self.forecasts.get((zone, day))
        if found is None:
            of_zone = [f for (z, _), f in self.forecasts.items() if z == zone]
            found = of_zone[-1] if of_zone else None
        return found

    # ------------------------------------------------------------------ offers and answers
    def on_offer(self, _envelope: Envelope, payload: IncentiveOfferMade) -> Iterable[Outgoing]:
        """Its own offers, read back: the offer book, budget and caps survive a restart."""
        self._register(payload)
        for envelope, answer in self.pending_answers.pop(payload.offer_id, []):
            self._apply_answer(envelope, answer)
        return []

    def _register(self, offer: IncentiveOfferMade) -> None:
        if offer.offer_id in self.offers:
            return
        self.offers[offer.offer_id] = offer
        state = self.campaigns.get(offer.campaign or "")
        minute = int((offer.made_at - self._day_start(state)).total_seconds() // 60) if state else 0
        self.book.issue(offer.offer_id, offer.campaign or "", offer.user, offer.catalogue_offer or offer.offer_type,
                        offer.purpose or "", offer.reward_yen, minute, self._valid_minutes(offer, state),
                        code=offer.code)
        self.history.offered(offer.user)
        if state:
            state.budget.issue(offer.offer_id, offer.reward_yen, offer.acceptance or 0.0)
            state.offered_users.add(offer.user)

    def _valid_minutes(self, offer: IncentiveOfferMade, state: CampaignState | None) -> int:
        """How long an offer read back stays open: as it was made, else its campaign's rule, else the default."""
        if offer.made_at is not None and offer.expires_at is not None:
            return max(int((offer.expires_at - offer.made_at).total_seconds() // 60), 0)
        return state.event.valid_minutes if state else self.settings.valid_minutes

    def on_answer(self, envelope: Envelope, payload: IncentiveOfferAnswered) -> Iterable[Outgoing]:
        if payload.offer_id not in self.offers:
            self.pending_answers.setdefault(payload.offer_id, []).append((envelope, payload))
            return []
        self._apply_answer(envelope, payload)
        return []

    def on_expired(self, envelope: Envelope, payload: IncentiveOfferExpired) -> Iterable[Outgoing]:
        if payload.offer_id not in self.offers:
            self.pending_answers.setdefault(payload.offer_id, []).append((envelope, payload))
            return []
        self._apply_answer(envelope, payload)
        return []

    def _apply_answer(self, envelope: Envelope, payload: object) -> None:
        offer = self.offers[payload.offer_id]  # type: ignore[attr-defined]
        accepted = isinstance(payload, IncentiveOfferAnswered) and payload.accepted
        if isinstance(payload, IncentiveOfferExpired):
            _, changed = self.book.lapse(offer.offer_id)
        else:
            state = self.campaigns.get(offer.campaign or "")
            minute = int((envelope.occurred_at - self._day_start(state)).total_seconds() // 60) if state else 0
            try:
                _, changed = self.book.answer(offer.offer_id, accepted, minute)
            except AnswerRefused as exc:
                log.info("answer to %s ignored: %s", offer.offer_id, exc)
                return
        if not changed:
            return
        self.history.answered(offer.user, accepted)
        state = self.campaigns.get(offer.campaign or "")
        if state is None:
            return
        if offer.purpose in state.estimates.segments and (offer.catalogue_offer or "") in state.estimates.offers:
            state.estimates.record(offer.purpose, offer.catalogue_offer, accepted)
        (state.budget.accepted if accepted else state.budget.closed)(offer.offer_id)

    # ------------------------------------------------------------------ redemption
    def on_redemption(self, _envelope: Envelope, payload: RedemptionRequested) -> Iterable[Outgoing]:
        code = payload.code.strip().upper()
        offer_id = self.book.by_code.get(code)
        record = self.book.records.get(offer_id) if offer_id else None
        if record is not None and record.status == "redeemed" and record.redeemed_by == payload.redeemer:
            return [self._redeemed(code, record.offer_id, payload.redeemer)]  # a redelivery: the same result
        try:
            record = self.book.redeem(code, payload.redeemer)
        except RedemptionRefused as exc:  # the domain's refusal, published with its reason
            return [Outgoing(REDEMPTIONS, RefusedEvent(code=code, redeemer=payload.redeemer, reason=str(exc)))]
        return [self._redeemed(code, record.offer_id, payload.redeemer)]

    def _redeemed(self, code: str, offer_id: str, redeemer: str) -> Outgoing:
        offer = self.offers[offer_id]
        state = self.campaigns.get(offer.campaign or "")
        return Outgoing(REDEMPTIONS, RewardRedeemed(
            code=code, offer_id=offer_id, campaign_id=offer.campaign or "",
            operator=state.event.operator if state else "", user=offer.user, reward_yen=offer.reward_yen,
            redeemer=redeemer, at=self.clock()))

    def on_reward(self, _envelope: Envelope, payload: RewardRedeemed) -> Iterable[Outgoing]:
        """Its own redemption results, read back: a code redeemed before a restart stays redeemed."""
        record = self.book.records.get(payload.offer_id)
        if record is None:
            return []
        if record.status != "redeemed":
            self.book.mark_redeemed(payload.offer_id, payload.redeemer)
        state = self.campaigns.get(payload.campaign_id)
        if state:
            state.budget.redeemed(payload.offer_id, payload.reward_yen)
        return []

    # ------------------------------------------------------------------ audit
    def books(self) -> dict[str, CampaignBooks]:
        """What this service believes of each campaign's money: funded (the guard), paid per offer, committed."""
        out = {}
        for cid, state in self.campaigns.items():
            b = state.budget
            out[cid] = CampaignBooks(
                campaign_id=cid, operator=state.event.operator, day=state.event.day.isoformat(),
                funded_yen=state.funded_yen, daily_yen=state.campaign.budget.daily_yen,
                paid_yen=b.paid_yen, paid_offers=dict(b.paid_offers),
                accepted_unpaid_yen=sum(b.accepted_unpaid.values()),
                expected_committed_yen=round(b.expected_committed, 2), worst_case_committed_yen=b.worst_case_committed)
        return out

    # ------------------------------------------------------------------ rounds
    def tick(self) -> Iterable[Outgoing]:
        now = self.clock()
        out: list[Outgoing] = []
        for record in self.book.records.values():
            if record.status == "sent" and record.offer_id in self.offers:
                offer = self.offers[record.offer_id]
                if offer.expires_at and offer.expires_at < now:
                    out.append(Outgoing(RESPONSES, IncentiveOfferExpired(offer_id=offer.offer_id, user=offer.user,
                                                                         campaign=offer.campaign)))
        for state in self.campaigns.values():
            if state.stopped or state.paused or (state.next_round and now < state.next_round):
                continue
            state.next_round = now + timedelta(seconds=self.settings.round_seconds)
            out += self._round(state, now)
        return out

    def _round(self, state: CampaignState, now: datetime) -> list[Outgoing]:
        campaign = state.campaign
        day0 = self._day_start(state)
        a, b = campaign.goal.window
        horizon = now + timedelta(minutes=self.settings.horizon_minutes)
        users = [t for t in self.trips.values()
                 if t.place == campaign.goal.place and now < t.at <= horizon and t.user not in state.offered_users
                 and a - 60 <= int((t.at - day0).total_seconds() // 60) < b + 60]
        if not users:
            return []
        segments = self.settings.segments
        crossing = np.array([int((t.at - day0).total_seconds() // 60) for t in users])
        forecast = self._forecast(campaign.goal.place, state.event.day)
        load = np.asarray(forecast.persons, dtype=float) if forecast is not None else np.ones(1440)
        effect, applicable = goal_effect(campaign.goal, campaign.catalogue, crossing, load,
                                         np.array([t.avoidable for t in users], dtype=bool))
        inputs = RoundInput(minute=self._minute(now), users=np.array([t.user for t in users]),
                            segment=np.array([segments.index(t.segment) for t in users]), segments=segments,
                            effect=effect, applicable=applicable, crossing_minute=crossing)
        plan = plan_round(campaign, inputs, state.estimates, self.history, state.budget.remaining_expected(),
                          state.budget.remaining_worst_case(), self.rng)
        out: list[Outgoing] = []
        for d in plan.decisions:
            spec = campaign.offer(d.offer)
            offer_id = hashlib.sha256(f"{campaign.campaign_id}/{d.user}/{now.isoformat()}".encode()).hexdigest()[:24]
            code = self.book.issue(offer_id, campaign.campaign_id, d.user, d.offer, d.segment, d.reward_yen,
                                   inputs.minute, state.event.valid_minutes).code
            offer = IncentiveOfferMade(
                offer_id=offer_id, user=d.user, offer_type=spec.behaviour, reward_yen=d.reward_yen,
                shift_min=spec.shift_min, purpose=d.segment, zone=campaign.goal.place, campaign=campaign.campaign_id,
                catalogue_offer=d.offer, shop=spec.shop, code=code, made_at=now,
                expires_at=now + timedelta(minutes=state.event.valid_minutes), acceptance=d.acceptance_sampled,
                expected_effect=d.expected_effect, expected_cost_yen=d.expected_cost_yen, why_user=d.why_user,
                why_offer=d.why_offer)
            self._register(offer)
            out.append(Outgoing(OFFERS, offer))
        alloc = plan.allocation
        out.append(Outgoing(CAMPAIGNS, CampaignRoundPlanned(
            campaign_id=campaign.campaign_id, round_at=now, candidates=len(users), offers=len(plan.decisions),
            expected_effect=round(plan.expected_effect, 4), expected_cost_yen=round(plan.expected_cost_yen, 2),
            gap=alloc.gap if alloc else 0.0, method=alloc.method if alloc else (plan.skipped or "-"),
            estimates=tuple((r["segment"], r["offer"], r["mean"], r["answers"])
                            for r in state.estimates.snapshot()))))
        return out


def _terms_of(revised: CampaignRevised) -> Terms:
    return Terms(revised.daily_budget_yen, revised.guard_yen, revised.max_offers_per_user_per_day,
                 revised.pause_after_declines, revised.valid_minutes)


def build_service(settings: IncentiveSettings | None = None, clock: Callable[[], datetime] | None = None) -> Service:
    core = IncentivesService(settings, clock)
    keep = timedelta(days=2)
    service = Service(
        name="incentives",
        handlers={
            CAMPAIGNS: {CampaignLaunched: core.on_launched, CampaignStopped: core.on_stopped,
                        CampaignPaused: core.on_paused, CampaignResumed: core.on_resumed,
                        CampaignRevisionRequested: core.on_revision_requested, CampaignRevised: core.on_revised,
                        CampaignRevisionRefused: core.on_revision_refused,
                        CampaignRoundPlanned: ignore},  # its own round summaries, for dashboards
            USERS: {TripExpected: core.on_trip, OffersPreference: core.on_preference},
            FORECASTS: {CrowdForecastPublished: core.on_forecast},
            OFFERS: {IncentiveOfferMade: core.on_offer},
            RESPONSES: {IncentiveOfferAnswered: core.on_answer, IncentiveOfferExpired: core.on_expired},
            REDEMPTIONS: {RedemptionRequested: core.on_redemption, RewardRedeemed: core.on_reward,
                          RefusedEvent: ignore},  # refusals are for the redeemer
        },
        timers=[Timer(interval_s=core.settings.timer_interval_s, tick=core.tick)],
        replay={name: keep for name in (CAMPAIGNS, USERS, FORECASTS, OFFERS, RESPONSES, REDEMPTIONS)},
    )
    service.incentives = core  # type: ignore[attr-defined]
    return service
