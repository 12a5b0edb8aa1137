"""Operations: liveness, readiness and Prometheus metrics (no token: the probes run inside the cluster)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST

from services.gateway.deps import GatewayDep
from services.gateway.schemas.ops import Health, Readiness

router = APIRouter(tags=["ops"])


@router.get("/health", response_model=Health)
def health() -> Health:
    return Health()


@router.get("/ready", response_model=Readiness,
            responses={503: {"model": Readiness, "description": "a dependency the gateway needs is down"}})
def ready(gw: GatewayDep) -> JSONResponse:
    checks = {"bus": gw.publisher.ready(), **(gw.readiness() if gw.readiness else {})}
    ok = all(checks.values())
    return JSONResponse(status_code=200 if ok else 503, content=Readiness(ready=ok, checks=checks).model_dump())


@router.get("/metrics", response_class=Response,
            responses={200: {"content": {CONTENT_TYPE_LATEST: {"schema": {"type": "string"}}},
                             "description": "Prometheus text exposition"}})
def metrics(request: Request) -> Response:
    return Response(request.app.state.http_metrics.render(), media_type=CONTENT_TYPE_LATEST)
