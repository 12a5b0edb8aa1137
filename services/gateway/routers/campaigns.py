"""Campaigns over HTTP: operators launch, pause, resume, revise and stop campaigns; shops redeem codes; app
users answer offers, declare the trips they expect and opt out of offers.

Routes only translate: the body is the campaign's contract (validated there, errors name the field), the
caller comes from the bearer token, and the event goes to its topic; the campaign service decides. A
campaign the read model knows does not exist is 404; a stopped one cannot be paused, resumed or revised
(409). A revision is judged by the campaign service (only it knows what is committed): the route waits
briefly for its decision and answers it (200, or 422 naming the field and the rule), else 202.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from services.gateway.deps import Bus, Gateway, GatewayDep, Ledger, Operator, Participant
from services.gateway.errors import FieldRuleError, NotFound, ServiceUnavailable, StateConflict
from services.gateway.schemas.campaigns import (
    Accepted,
    AnswerBody,
    CampaignCurve,
    CampaignReconcileAnswer,
    CampaignSummary,
    PauseBody,
    PreferenceBody,
    RedemptionBody,
    RevisionAnswer,
    StopBody,
    TripBody,
)
from services.gateway.schemas.common import error_responses
from shared.contracts.incentives import (
    CAMPAIGNS,
    REDEMPTIONS,
    RESPONSES,
    USERS,
    CampaignChanges,
    CampaignLaunched,
    CampaignPaused,
    CampaignResumed,
    CampaignRevised,
    CampaignRevisionRequested,
    CampaignStopped,
    IncentiveOfferAnswered,
    OffersPreference,
    RedemptionRequested,
    TripExpected,
)

router = APIRouter(prefix="/v1", tags=["campaigns"], responses=error_responses(401, 403, 422))
REVISION_WAIT_S = 3.0  # how long a revision request waits for the campaign service's decision
REVISION_POLL_S = 0.05


def _campaign(gateway: Gateway, campaign_id: str, *, running: bool = True) -> dict[str, Any] | None:
    """The campaign's summary (``None`` if the read model cannot tell); 404 if it knows there is no such
    campaign, 409 if ``running`` is asked of a stopped one."""
    found = gateway.campaigns.summary(campaign_id)
    if found is None:
        raise NotFound(f"no campaign {campaign_id!r}")
    if found == "unknown" or not isinstance(found, dict):
        return None
    if running and found["state"] == "stopped":
        raise StateConflict(f"campaign {campaign_id!r} is stopped; stopping is final")
    return found


@router.post("/operator/campaigns", status_code=202, response_model=Accepted, responses=error_responses(409))
async def launch_campaign(body: CampaignLaunched, _: Operator, bus: Bus, gateway: GatewayDep) -> Accepted:
    """Launch a campaign (goal, budget and guard, catalogue, targeting, caps); its rounds start at once. 409 for
    an id the campaign list already holds (the campaign service would keep the first launch only)."""
    if isinstance(gateway.campaigns.summary(body.campaign_id), dict):
        raise StateConflict(f"campaign_id: {body.campaign_id!r} is already a campaign; choose another id")
    envelope = await bus.publish(CAMPAIGNS, body)
    return Accepted(id=body.campaign_id, event_id=envelope.event_id)


@router.get("/operator/campaigns", response_model=list[CampaignSummary], responses=error_responses(503))
def campaign_summaries(_: Operator, gateway: GatewayDep, ledger: Ledger) -> list[dict[str, Any]]:
    """Every campaign: budget planned (daily budget, guard) against spent, expected (the offers' expected cost;
    committed now) and realised (rewards paid); offers sent, accepted, redeemed; load removed (expected, and
    by the offers accepted); and its ledger account (funded, rewards, balance)."""
    accounts = {a["campaign_id"]: a for a in ledger.operator().campaign_accounts()}
    out = []
    for summary in gateway.campaigns.summaries():
        account = accounts.get(summary["campaign_id"])
        ledger_side = None if account is None else {k: account[k] for k in (
            "funded_yen", "rewards_yen", "balance_yen", "rewards_paid")}
        out.append({**summary, "ledger": ledger_side})
    return out


@router.get("/operator/campaigns/{campaign_id}/curve", response_model=CampaignCurve,
            responses=error_responses(404, 503))
def campaign_curve(campaign_id: str, _: Operator, gateway: GatewayDep) -> dict[str, Any]:
    """The campaign's goal place over its day: the live load beside the simulator's day without offers
    (the counterfactual), and what the goal's window has lost against it so far. 404 for a campaign the read
    model knows does not exist; 503 while it cannot tell yet."""
    found = gateway.campaigns.curve(campaign_id)
    if found is None:
        raise NotFound(f"no campaign {campaign_id!r}")
    if not isinstance(found, dict):
        raise ServiceUnavailable("the campaign list is still being read; try again shortly")
    return found


@router.get("/operator/campaigns/reconcile", response_model=CampaignReconcileAnswer,
            responses=error_responses(503))
async def reconcile_campaigns(_: Operator, gateway: GatewayDep) -> dict[str, Any]:
    """The campaign service's books (funded, rewards paid per offer, committed) against the ledger's campaign
    accounts; every difference named per campaign (``citymatch campaigns reconcile`` prints the same)."""
    if gateway.campaign_check is None:
        raise ServiceUnavailable("campaign reconcile is not available on this gateway (no broker to read)")
    report = await run_in_threadpool(gateway.campaign_check)
    return dict(report.to_json())


@router.post("/operator/campaigns/{campaign_id}/stop", status_code=202, response_model=Accepted,
             responses=error_responses(404))
async def stop_campaign(campaign_id: str, body: StopBody, _: Operator, bus: Bus, gateway: GatewayDep) -> Accepted:
    """Stop for good: no more rounds; offers already made stay valid and redeemable."""
    _campaign(gateway, campaign_id, running=False)
    envelope = await bus.publish(CAMPAIGNS, CampaignStopped(campaign_id=campaign_id, reason=body.reason))
    return Accepted(id=campaign_id, event_id=envelope.event_id)


@router.post("/operator/campaigns/{campaign_id}/pause", status_code=202, response_model=Accepted,
             responses=error_responses(404, 409))
async def pause_campaign(campaign_id: str, _: Operator, bus: Bus, gateway: GatewayDep,
                         body: PauseBody | None = None) -> Accepted:
    """No new rounds until resumed; offers already made stay valid, answerable and redeemable."""
    _campaign(gateway, campaign_id)
    envelope = await bus.publish(CAMPAIGNS, CampaignPaused(campaign_id=campaign_id,
                                                           reason=body.reason if body else ""))
    return Accepted(id=campaign_id, event_id=envelope.event_id)


@router.post("/operator/campaigns/{campaign_id}/resume", status_code=202, response_model=Accepted,
             responses=error_responses(404, 409))
async def resume_campaign(campaign_id: str, _: Operator, bus: Bus, gateway: GatewayDep) -> Accepted:
    """Rounds again from the campaign service's next tick."""
    _campaign(gateway, campaign_id)
    envelope = await bus.publish(CAMPAIGNS, CampaignResumed(campaign_id=campaign_id))
    return Accepted(id=campaign_id, event_id=envelope.event_id)


@router.patch("/operator/campaigns/{campaign_id}", response_model=RevisionAnswer,
              responses={**error_responses(404, 409), 202: {"model": RevisionAnswer,
                                                            "description": "requested, not decided yet"}})
async def revise_campaign(campaign_id: str, body: CampaignChanges, _: Operator, bus: Bus,
                          gateway: GatewayDep) -> Any:
    """Change the daily budget, the guard (the funded maximum: its change is funded on, or returned from, the
    campaign's ledger account), ``max_offers_per_user_per_day``, ``pause_after_declines`` or
    ``valid_minutes`` (of offers made from now on); only the fields sent change. Neither the budget nor the
    guard may fall below what the campaign has already committed (422 naming the field and the rule)."""
    known = _campaign(gateway, campaign_id)
    request = CampaignRevisionRequested(request_id=uuid.uuid4().hex, campaign_id=campaign_id, **body.changes())
    envelope = await bus.publish(CAMPAIGNS, request)
    outcome = None
    deadline = time.monotonic() + (REVISION_WAIT_S if known is not None else 0.0)
    while (outcome := gateway.campaigns.revision_outcome(request.request_id)) is None and time.monotonic() < deadline:
        await asyncio.sleep(REVISION_POLL_S)
    if outcome is None:
        return JSONResponse(status_code=202, content=RevisionAnswer(
            id=request.request_id, event_id=envelope.event_id, status="requested").model_dump())
    if not isinstance(outcome, CampaignRevised):
        if outcome.field == "campaign_id":  # stopped (or unknown) by the time the service read the request
            raise StateConflict(f"campaign {campaign_id!r}: {outcome.reason}")
        raise FieldRuleError(("body", outcome.field), outcome.reason)
    terms = {name: getattr(outcome, name) for name in CampaignChanges.model_fields}
    return RevisionAnswer(id=request.request_id, event_id=envelope.event_id, status="revised",
                          revision=outcome.revision, terms=terms)


@router.post("/campaigns/redemptions", status_code=202, response_model=Accepted)
async def redeem(body: RedemptionBody, redeemer: Participant, bus: Bus) -> Accepted:
    """A shop (the caller) presents a code; the result (paid once, or refused with the reason) follows on
    incentives.redemptions and the reward on the ledger."""
    envelope = await bus.publish(REDEMPTIONS, RedemptionRequested(code=body.code, redeemer=redeemer))
    return Accepted(id=body.code.strip().upper(), event_id=envelope.event_id)


@router.post("/app/offers/{offer_id}/answer", status_code=202, response_model=Accepted)
async def answer_offer(offer_id: str, body: AnswerBody, user: Participant, bus: Bus) -> Accepted:
    envelope = await bus.publish(RESPONSES, IncentiveOfferAnswered(offer_id=offer_id, user=user, accepted=body.accept,
                                                             responder="app"))
    return Accepted(id=offer_id, event_id=envelope.event_id)


@router.post("/app/trips", status_code=202, response_model=Accepted)
async def expect_trip(body: TripBody, user: Participant, bus: Bus) -> Accepted:
    envelope = await bus.publish(USERS, TripExpected(user=user, segment=body.segment, place=body.place, at=body.at,
                                                 avoidable=body.avoidable))
    return Accepted(id=user, event_id=envelope.event_id)


@router.post("/app/offers/preference", status_code=202, response_model=Accepted)
async def offers_preference(body: PreferenceBody, user: Participant, bus: Bus) -> Accepted:
    """Opt out of offers (or back in); an opted-out user never receives one."""
    envelope = await bus.publish(USERS, OffersPreference(user=user, opted_out=body.opted_out))
    return Accepted(id=user, event_id=envelope.event_id)
