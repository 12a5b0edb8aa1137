"""Campaigns over HTTP: operators launch and stop campaigns; shops redeem codes; app users answer offers,
declare the trips they expect and opt out of offers.

Routes only translate: the body is the campaign's contract (validated there, errors name the field), the
caller comes from the bearer token, and the event goes to its topic; the campaign service decides.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool

from services.gateway.deps import Bus, GatewayDep, Ledger, Operator, Participant
from services.gateway.errors import ServiceUnavailable
from services.gateway.schemas.campaigns import (
    Accepted,
    AnswerBody,
    CampaignReconcileAnswer,
    CampaignSummary,
    PreferenceBody,
    RedemptionBody,
    StopBody,
    TripBody,
)
from services.gateway.schemas.common import error_responses
from shared.contracts.incentives import (
    CAMPAIGNS,
    REDEMPTIONS,
    RESPONSES,
    USERS,
    CampaignLaunched,
    CampaignStopped,
    IncentiveOfferAnswered,
    OffersPreference,
    RedemptionRequested,
    TripExpected,
)

router = APIRouter(prefix="/v1", tags=["campaigns"], responses=error_responses(401, 403, 422))


@router.post("/operator/campaigns", status_code=202, response_model=Accepted)
async def launch_campaign(body: CampaignLaunched, _: Operator, bus: Bus) -> Accepted:
    """Launch a campaign (goal, budget and guard, catalogue, targeting, caps); its rounds start at once."""
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


@router.get("/operator/campaigns/reconcile", response_model=CampaignReconcileAnswer,
            responses=error_responses(503))
async def reconcile_campaigns(_: Operator, gateway: GatewayDep) -> dict[str, Any]:
    """The campaign service's books (funded, rewards paid per offer, committed) against the ledger's campaign
    accounts; every difference named per campaign (``citymatch campaigns reconcile`` prints the same)."""
    if gateway.campaign_check is None:
        raise ServiceUnavailable("campaign reconcile is not available on this gateway (no broker to read)")
    report = await run_in_threadpool(gateway.campaign_check)
    return dict(report.to_json())


@router.post("/operator/campaigns/{campaign_id}/stop", status_code=202, response_model=Accepted)
async def stop_campaign(campaign_id: str, body: StopBody, _: Operator, bus: Bus) -> Accepted:
    envelope = await bus.publish(CAMPAIGNS, CampaignStopped(campaign_id=campaign_id, reason=body.reason))
    return Accepted(id=campaign_id, event_id=envelope.event_id)


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
