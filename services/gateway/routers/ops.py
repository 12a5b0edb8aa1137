"""Operations: liveness, readiness and Prometheus metrics (no token: the probes run inside the cluster)."""

from __future__ import annotations

import asyncio
import logging

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST

from services.gateway.deps import GatewayDep
from services.gateway.schemas.ops import Health, Readiness

router = APIRouter(tags=["ops"])
log = logging.getLogger("citymatch.gateway")
CHECK_TIMEOUT_S = 1.5


@router.get("/health", response_model=Health)
def health() -> Health:
    """The process is alive (it may still not be ready)."""
    return Health()


_pending: dict[tuple[int, int], asyncio.Future[dict[str, bool]]] = {}  # (gateway, event loop) -> running check


async def _checks(gw: GatewayDep) -> dict[str, bool]:
    """The blocking checks, off the loop and cut off after a timeout; while one hangs, later probes wait on
    it instead of starting another thread."""
    if gw.readiness is None:
        return {}
    key = (id(gw), id(asyncio.get_running_loop()))
    running = _pending.get(key)
    if running is None or running.done():
        running = _pending[key] = asyncio.ensure_future(asyncio.to_thread(gw.readiness))
    try:
        return await asyncio.wait_for(asyncio.shield(running), CHECK_TIMEOUT_S)
    except TimeoutError:
        log.warning("readiness checks took longer than %.1f s", CHECK_TIMEOUT_S)
        return {"ledger": False}


@router.get("/ready", response_model=Readiness,
            responses={503: {"model": Readiness, "description": "a dependency the gateway needs is down"}})
async def ready(gw: GatewayDep) -> JSONResponse:
    """Ready when the broker answers a metadata request and the ledger a query, each within a short timeout."""
    bus, others = await asyncio.gather(gw.publisher.ready(), _checks(gw))
    checks = {"bus": bus, **others}
    ok = all(checks.values())
    return JSONResponse(status_code=200 if ok else 503, content=Readiness(ready=ok, checks=checks).model_dump())


@router.get("/metrics", response_class=Response,
            responses={200: {"content": {CONTENT_TYPE_LATEST: {"schema": {"type": "string"}}},
                             "description": "Prometheus text exposition"}})
def metrics(request: Request) -> Response:
    """Requests by method, route template and status; answer times."""
    return Response(request.app.state.http_metrics.render(), media_type=CONTENT_TYPE_LATEST)
