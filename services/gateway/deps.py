"""What a route may ask for: the caller (app user, device or operator) and the gateway's ports, as aliases.

Routes declare ``participant: Participant`` or ``_: Operator`` and ``ledger: Ledger``; the values come from
the :class:`Gateway` the app was built with (``app.state.gateway``), so routers import no adapter. The
bearer scheme is declared once here, so the OpenAPI document carries it and the docs have an Authorize
button.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Annotated, Any, Protocol

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from services.gateway.accounts.service import Accounts
from services.gateway.anomalies import AnomalyBook, AnomalyReader
from services.gateway.auth_limits import AuthLimits
from services.gateway.campaign_feed import CampaignReader, NoCampaigns
from services.gateway.cars import CarBook, CarReader
from services.gateway.city_live import LiveBook, LiveReader
from services.gateway.dead_letters import DeadLetterBook, DeadLetterReader
from services.gateway.idempotency import IdempotencyStore
from services.gateway.market_slots import MarketReader, MarketSlotBook
from services.gateway.offers import OfferBook, OfferReader
from services.gateway.publisher import Publisher
from services.gateway.rejections import RejectionReader
from services.gateway.rides import RideBook, RideReader
from services.gateway.sim_runs import SimRunQueue
from services.gateway.slots import DEFAULT_HORIZON
from shared.auth import PARTICIPANT_ROLES, AuthError, Claims, ForbiddenError, require_role, verify_token
from shared.settings import Settings

log = logging.getLogger("citymatch.gateway")

bearer_scheme = HTTPBearer(auto_error=False, scheme_name="bearer",
                           description="`citymatch token --participant <id>` for an app user (role app-user), "
                                       "`--role device` for a device agent; the operator's token for /v1/operator")


class LedgerViews(Protocol):
    """The ledger's read side (services.settlement.views.LedgerReader): per-participant and operator views."""

    def participant(self, participant: str) -> Any: ...
    def operator(self) -> Any: ...
    def public_keys(self) -> list[dict[str, str]]: ...
    def close(self) -> None: ...


class _NoRejections:
    def rejections_for(self, participant: str) -> list[dict[str, Any]]:
        return []

    def close(self) -> None:
        return None


@dataclass
class Gateway:
    """Everything the routes use, built once by the composition root (bootstrap, demo, tests)."""

    settings: Settings
    publisher: Publisher
    ledger: LedgerViews
    readiness: Callable[[], dict[str, bool]] | None = None  # blocking checks, run off the loop with a timeout
    rejections: RejectionReader = field(default_factory=_NoRejections)
    # The ledger against the market's published trades (services.settlement.adapters.market_trades).
    market_check: Callable[[], Any] | None = None
    idempotency: IdempotencyStore = field(default_factory=IdempotencyStore)
    accounts: Accounts | None = None  # sign-up and sign-in (services.gateway.accounts); create_app always sets one
    auth_limits: AuthLimits = field(default_factory=AuthLimits)
    # Each app user's offers and their fate (services.gateway.offers); empty until a feed is given.
    offers: OfferReader = field(default_factory=OfferBook)
    # How far ahead the market takes orders (its CITYMATCH_MARKET_HORIZON_DAYS, handed over by the composition
    # root); orders beyond it are refused here at once.
    order_horizon: timedelta = DEFAULT_HORIZON
    campaigns: CampaignReader = field(default_factory=NoCampaigns)  # the campaign topics' read model
    # The campaign service's books against the ledger's campaign accounts (services.campaign_audit).
    campaign_check: Callable[[], Any] | None = None
    offer_stream_max_s: float = 300.0  # how long one live offer stream stays open before the app reconnects
    # Each owner's cars, their plans and the charging service's answers (services.gateway.cars).
    cars: CarReader = field(default_factory=CarBook)
    # The latest anomalies on city.anomalies (services.gateway.anomalies), for the dashboard.
    anomalies: AnomalyReader = field(default_factory=AnomalyBook)
    # The planners' simulator runs (services.gateway.sim_runs); opened on first use from CITYMATCH_PLANNER_*.
    sim_runs: SimRunQueue | None = None
    # The operators' live map, the market per slot and the dead letters per topic (services.gateway.city_live,
    # .market_slots, .dead_letters).
    live: LiveReader = field(default_factory=LiveBook)
    market: MarketReader = field(default_factory=MarketSlotBook)
    dead_letters: DeadLetterReader = field(default_factory=DeadLetterBook)

    # Each app user's rides and the parcels they sent (services.gateway.rides).
    rides: RideReader = field(default_factory=RideBook)

    def close(self) -> None:
        """Stop the feeds, flush and close the producer, dispose of the ledger's and accounts' engines."""
        for part in (self.rejections, self.offers, self.cars, self.anomalies, self.rides, self.live, self.market,
                     self.dead_letters, self.campaigns, self.publisher, self.ledger, self.accounts, self.sim_runs):
            if part is None:
                continue
            try:
                part.close()
            except Exception:  # one failing close must not keep the others open
                log.exception("closing %s failed", type(part).__name__)


def gateway(request: Request) -> Gateway:
    return request.app.state.gateway


Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)]


def _bearer(request: Request) -> str:
    header = request.headers.get("authorization")
    if not header:
        raise AuthError("missing Authorization header (expected 'Bearer <token>')")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AuthError("Authorization header must be 'Bearer <token>'")
    return token.strip()


def _is_operator_secret(settings: Settings, token: str) -> bool:
    return hmac.compare_digest(token.encode(), settings.operator_token.encode())


def caller(request: Request, _: Credentials = None) -> Claims | None:
    """The verified claims of the caller's token; ``None`` for the operator's configured secret."""
    settings = gateway(request).settings
    token = _bearer(request)
    if _is_operator_secret(settings, token):
        return None
    return verify_token(settings.token_secret, token)


# The dependencies below are ``async def`` although none of them awaits: FastAPI runs a plain ``def``
# dependency in its thread pool, a thread handover per dependency and request that cost the order routes
# about a fifth of the gateway's CPU (measured in ``make bench-pipeline``). None of them blocks.
async def _caller(request: Request, _: Credentials = None) -> Claims | None:
    return caller(request)


Caller = Annotated[Claims | None, Depends(_caller)]


def _participant_with(roles: tuple[str, ...]) -> Callable[[Caller], Awaitable[str]]:
    async def participant(claims: Caller) -> str:
        if claims is None:
            raise ForbiddenError(f"this route needs a token with role {' or '.join(roles)}; "
                                 "the operator token does not speak for a participant")
        return require_role(claims, roles, "this route").subject
    return participant


async def _operator(claims: Caller) -> None:
    require_operator(claims)


async def _planner(claims: Caller) -> str:
    return require_planner(claims)


def require_operator(claims: Claims | None) -> None:
    if claims is not None:
        require_role(claims, ("operator",), "this operator route")


def require_planner(claims: Claims | None) -> str:
    """Planners and operators (the operator's secret too); the caller's subject, ``operator`` for the secret."""
    if claims is None:
        return "operator"
    return require_role(claims, ("planner", "operator"), "this planner route").subject


Participant = Annotated[str, Depends(_participant_with(PARTICIPANT_ROLES))]
ParticipantReader = Annotated[str, Depends(_participant_with(("app-user",)))]
Operator = Annotated[None, Depends(_operator)]
Planner = Annotated[str, Depends(_planner)]


async def _publisher(request: Request) -> Publisher:
    return gateway(request).publisher


async def _ledger(request: Request) -> LedgerViews:
    return gateway(request).ledger


async def _rejections(request: Request) -> RejectionReader:
    return gateway(request).rejections


async def _gateway(request: Request) -> Gateway:
    return gateway(request)


async def _accounts(request: Request) -> Accounts:
    accounts = gateway(request).accounts
    assert accounts is not None, "create_app sets the accounts"
    return accounts


Bus = Annotated[Publisher, Depends(_publisher)]
AccountsDep = Annotated[Accounts, Depends(_accounts)]
Ledger = Annotated[LedgerViews, Depends(_ledger)]
Rejections = Annotated[RejectionReader, Depends(_rejections)]
GatewayDep = Annotated[Gateway, Depends(_gateway)]
