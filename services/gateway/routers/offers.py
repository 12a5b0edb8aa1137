"""The app's offers: the caller's list, and the same list live as server-sent events.

The stream (``text/event-stream``) sends an ``offers`` event with the whole list at once and again whenever
something of the caller's changes (a new offer, an answer recorded, an expiry, a reward paid), and a comment
every 15 s so proxies keep it open. It ends when the caller's access token expires (at most after
``STREAM_MAX_S``); the app then reconnects with its refreshed token, so a stream never outlives its credential.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import StreamingResponse

from services.gateway.deps import Caller, gateway
from services.gateway.offers import OfferReader
from services.gateway.schemas.common import error_responses
from services.gateway.schemas.offers import OffersPublic
from shared.auth import Claims, ForbiddenError, require_role

router = APIRouter(prefix="/v1/app/offers", tags=["app"], responses=error_responses(401, 403))
POLL_S = 0.25
KEEP_ALIVE_S = 15.0
STREAM_MAX_S = 300.0  # the default; a gateway may hold its streams shorter (Gateway.offer_stream_max_s)
# One server-sent event (schemathesis and OpenAPI 3.2 tools read it per event).
EVENT_SCHEMA = {"type": "object", "required": ["event", "data"], "properties": {
    "event": {"const": "offers"}, "id": {"type": "string"},
    "data": {"type": "string", "contentMediaType": "application/json",
             "contentSchema": {"$ref": "#/components/schemas/OffersPublic"}}}}


def _app_user(claims: Caller) -> Claims:
    if claims is None:
        raise ForbiddenError("this route needs a token with role app-user; the operator token does not speak "
                             "for a participant")
    return require_role(claims, ("app-user",), "this route")


async def _offers(request: Request) -> OfferReader:
    return gateway(request).offers


AppUser = Annotated[Claims, Depends(_app_user)]
Offers = Annotated[OfferReader, Depends(_offers)]


@router.get("", response_model=OffersPublic)
def my_offers(user: AppUser, offers: Offers) -> Any:
    """The caller's offers, newest first, each with its state; the code shows once accepted."""
    version, rows = offers.offers_for(user.subject)
    return {"version": version, "offers": rows}


@router.get("/stream", response_class=StreamingResponse,
            responses={200: {"content": {"text/event-stream": {"schema": EVENT_SCHEMA}},
                             "description": "the caller's offers, live: one `offers` event at once and one on "
                                            "every change; `: keep-alive` comments between"}})
async def my_offers_stream(request: Request, user: AppUser, offers: Offers,
                           seconds: Annotated[float, Query(gt=0, le=300)] = STREAM_MAX_S,
                           ) -> StreamingResponse:
    """The caller's offers live (server-sent events) for ``seconds`` at most, ending earlier when the access
    token expires; reconnect when it ends."""
    longest = gateway(request).offer_stream_max_s
    lifetime = min(seconds, longest, (user.expires_at - datetime.now(UTC)).total_seconds())
    return StreamingResponse(_events(request, user.subject, offers, lifetime), media_type="text/event-stream",
                             headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})


async def _events(request: Request, user: str, offers: OfferReader, lifetime: float) -> AsyncIterator[str]:
    loop = asyncio.get_running_loop()
    end = loop.time() + lifetime
    sent, quiet_since = -1, loop.time()
    yield "retry: 2000\n\n"
    while loop.time() < end and not await request.is_disconnected():
        if offers.version_for(user) != sent:  # rows are copied only when something of the user's moved
            version, rows = offers.offers_for(user)
            body = OffersPublic.model_validate({"version": version, "offers": rows}).model_dump(mode="json")
            yield f"event: offers\nid: {version}\ndata: {json.dumps(body, ensure_ascii=False)}\n\n"
            sent, quiet_since = version, loop.time()
        elif loop.time() - quiet_since >= KEEP_ALIVE_S:
            yield ": keep-alive\n\n"
            quiet_since = loop.time()
        await asyncio.sleep(POLL_S)
