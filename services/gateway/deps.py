"""What a route may ask for: the caller (app user or operator) and the gateway's ports, as short aliases.

Routes declare ``participant: Participant`` or ``_: Operator`` and ``ledger: Ledger``; the values come from
the :class:`Gateway` the app was built with (``app.state.gateway``), so routers import no adapter.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Annotated, Any, Protocol

from fastapi import Depends, Header, Request

from services.gateway.publisher import Publisher
from services.gateway.rejections import RejectionReader
from shared.auth import AuthError, ForbiddenError, participant_from_token
from shared.settings import Settings

log = logging.getLogger("citymatch.gateway")


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
    readiness: Callable[[], dict[str, bool]] | None = None
    rejections: RejectionReader = field(default_factory=_NoRejections)
    # The ledger against the market's published trades (services.settlement.adapters.market_trades).
    market_check: Callable[[], Any] | None = None

    def close(self) -> None:
        """Stop the rejection feed, flush and close the producer, dispose of the ledger's engine."""
        for part in (self.rejections, self.publisher, self.ledger):
            try:
                part.close()
            except Exception:  # one failing close must not keep the others open
                log.exception("closing %s failed", type(part).__name__)


def gateway(request: Request) -> Gateway:
    return request.app.state.gateway


def _bearer(authorization: str | None) -> str:
    if not authorization:
        raise AuthError("missing Authorization header (expected 'Bearer <token>')")
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise AuthError("Authorization header must be 'Bearer <token>'")
    return token.strip()


def current_participant(request: Request, authorization: Annotated[str | None, Header()] = None) -> str:
    return participant_from_token(gateway(request).settings.token_secret, _bearer(authorization))


def require_operator(request: Request, authorization: Annotated[str | None, Header()] = None) -> None:
    settings = gateway(request).settings
    token = _bearer(authorization)
    if hmac.compare_digest(token, settings.operator_token):
        return
    try:
        participant = participant_from_token(settings.token_secret, token)
    except AuthError:
        raise AuthError("operator token required") from None
    raise ForbiddenError(f"{participant} is an app user; this route is for the operator")


def _publisher(request: Request) -> Publisher:
    return gateway(request).publisher


def _ledger(request: Request) -> LedgerViews:
    return gateway(request).ledger


def _rejections(request: Request) -> RejectionReader:
    return gateway(request).rejections


Participant = Annotated[str, Depends(current_participant)]
Operator = Annotated[None, Depends(require_operator)]
Bus = Annotated[Publisher, Depends(_publisher)]
Ledger = Annotated[LedgerViews, Depends(_ledger)]
Rejections = Annotated[RejectionReader, Depends(_rejections)]
GatewayDep = Annotated[Gateway, Depends(gateway)]
