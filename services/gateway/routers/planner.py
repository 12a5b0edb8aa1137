"""Planners launch simulator runs, follow their progress and open their reports (planner and operator roles).

Runs execute in worker processes outside the gateway (:mod:`services.gateway.sim_runs`); these routes only
queue, read and cancel, so they answer at once while the simulator walks. A finished run's report is the
simulator's own page, served under the pages' content security policy (its styles as a sheet beside it, its
plots embedded). A browser opens it by a link the run's answer carries (``report_url``): signed for that run
and valid for a while, since a link cannot send the session's bearer token; with the token it opens anyway.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from pathlib import Path as FilePath
from typing import Annotated, Any

from fastapi import APIRouter, Header, HTTPException, Path, Query, Request, status
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response

from services.gateway.deps import GatewayDep, Planner, caller, gateway, require_planner
from services.gateway.errors import FieldRuleError, StateConflict
from services.gateway.routers.web import SECURITY_HEADERS
from services.gateway.schemas.common import error_responses
from services.gateway.schemas.planner import ScenarioPublic, SimRunBody, SimRunPublic
from services.gateway.sim_runs import (
    RUN_ID_PATTERN,
    NotCancellable,
    PlannerConfig,
    QueueFull,
    Run,
    SimRunQueue,
    shipped_scenarios,
)

router = APIRouter(prefix="/v1/planner/sim", tags=["planner"], responses=error_responses(401, 403))
REPORT_LINK_S = 1800  # how long a report link stays valid
ASSET_TYPES = {".css": "text/css", ".csv": "text/csv; charset=utf-8", ".json": "application/json",
               ".geojson": "application/geo+json", ".png": "image/png"}
# The shipped scenarios' names for people (the YAML files carry an English description only).
SCENARIO_TITLES = {
    "ebina_weekday": ("平日（朝と夕方のピーク、100円オファー2件）",
                      "Weekday (morning and evening peaks, two 100-yen offers)"),
    "ebina_weekday_event": ("平日＋ViNA WALKの夜のイベント（6,000人、18:30–20:30）",
                            "Weekday with an evening event at ViNA WALK (6,000 people, 18:30–20:30)"),
    "ebina_rainy_saturday": ("雨の土曜日（利用者85 %、買い物が多い）",
                             "Rainy Saturday (85 % ridership, more shopping)"),
}
RunId = Annotated[str, Path(pattern=RUN_ID_PATTERN, description="the run's id (from POST /runs)")]
IdempotencyKey = Annotated[str | None, Header(
    alias="Idempotency-Key", min_length=1, max_length=128, pattern=r"^[\x21-\x7e]+$",
    description="any printable ASCII string; the same key with the same request returns the same run")]
_OPENING = threading.Lock()


def sim_runs(request: Request) -> SimRunQueue:
    """The gateway's run queue, opened on first use (from ``CITYMATCH_PLANNER_*``) unless it was given one."""
    gw = gateway(request)
    with _OPENING:
        if gw.sim_runs is None:
            gw.sim_runs = SimRunQueue(PlannerConfig.from_env())
        return gw.sim_runs


def _signature(secret: str, run_id: str, expires: int) -> str:
    mac = hmac.new(secret.encode(), f"planner-report\x00{run_id}\x00{expires}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac[:18]).decode()


def report_ticket(secret: str, run_id: str, now: float | None = None) -> str:
    """A link's proof that a planner may read this run's report, until it expires."""
    expires = int((time.time() if now is None else now) + REPORT_LINK_S)
    return f"{expires}.{_signature(secret, run_id, expires)}"


def ticket_valid(secret: str, run_id: str, ticket: str, now: float | None = None) -> bool:
    expires, _, signature = ticket.partition(".")
    if not expires.isdigit() or int(expires) <= (time.time() if now is None else now):
        return False
    return hmac.compare_digest(signature, _signature(secret, run_id, int(expires)))


def _public(run: Run, secret: str) -> dict[str, Any]:
    out = run.public()
    if run.state == "done" and run.report:
        ticket = report_ticket(secret, run.id)
        out["report_url"] = f"{router.prefix}/runs/{run.id}/report?ticket={ticket}"
        out["kpis_url"] = f"{router.prefix}/runs/{run.id}/kpis?ticket={ticket}"
    return out


def _run(queue: SimRunQueue, run_id: str) -> Run:
    run = queue.get(run_id)
    if run is None:
        raise HTTPException(status_code=404, detail=f"no run {run_id!r}")
    return run


def _finished(queue: SimRunQueue, run_id: str) -> Run:
    run = _run(queue, run_id)
    if run.state != "done" or not run.report:
        raise StateConflict(f"run {run_id} has no report ({run.state}" + (f": {run.reason}" if run.reason else "")
                            + ")")
    return run


def _reader(request: Request, run_id: str, ticket: str | None) -> SimRunQueue:
    """The queue, for a planner's token or a valid link to this run's report."""
    gw = gateway(request)
    if not (ticket and ticket_valid(gw.settings.token_secret, run_id, ticket)):
        require_planner(caller(request))
    return sim_runs(request)


Ticket = Annotated[str | None, Query(max_length=200, description="the link's proof (from report_url)")]
HTML: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/html": {"schema": {"type": "string"}}}, "description": "the report's page"}}
ASSET: dict[int | str, dict[str, Any]] = {
    200: {"content": {t: {"schema": {"type": "string"}} for t in ASSET_TYPES.values()},
          "description": "a file of the report: its style sheet, a CSV table, a JSON or GeoJSON file"}}


@router.get("/scenarios", response_model=list[ScenarioPublic])
def scenarios(_: Planner) -> list[dict[str, Any]]:
    """The shipped scenarios a run can use, with their titles in Japanese and English: the ordinary weekday
    first, then the others."""
    known = list(SCENARIO_TITLES)
    out = []
    for name in sorted(shipped_scenarios(), key=lambda n: (known.index(n) if n in known else len(known), n)):
        ja, en = SCENARIO_TITLES.get(name, (name, name))
        out.append({"name": name, "title": {"ja": ja, "en": en}})
    return out


@router.post("/runs", status_code=status.HTTP_202_ACCEPTED, response_model=SimRunPublic,
             responses=error_responses(409, 413, 422, 429))
def launch(body: SimRunBody, who: Planner, request: Request, gw: GatewayDep,
           idempotency_key: IdempotencyKey = None) -> dict[str, Any]:
    """Queue a run; it starts when a worker is free (at most ``CITYMATCH_PLANNER_CONCURRENT`` at a time). 429
    when the queue is full; 409 when the Idempotency-Key was used for another request."""
    if body.kind == "compare" and body.against is None:
        raise FieldRuleError(("body", "against"), "kind compare needs the second shipped scenario (B) in against")
    if body.kind != "compare" and body.against is not None:
        raise FieldRuleError(("body", "against"), f"only kind compare takes against (this is kind {body.kind})")
    try:
        run = sim_runs(request).submit(body.model_dump(), who, idempotency_key)
    except QueueFull as exc:
        raise HTTPException(status_code=429, detail=str(exc), headers={"Retry-After": "30"}) from None
    return _public(run, gw.settings.token_secret)


@router.get("/runs", response_model=list[SimRunPublic])
def runs(_: Planner, request: Request, gw: GatewayDep,
         limit: Annotated[int, Query(ge=1, le=200, description="newest first")] = 50) -> list[dict[str, Any]]:
    """The runs, newest first, with their state and progress."""
    return [_public(r, gw.settings.token_secret) for r in sim_runs(request).runs(limit)]


@router.get("/runs/{run_id}", response_model=SimRunPublic, responses=error_responses(404, 422))
def run(run_id: RunId, _: Planner, request: Request, gw: GatewayDep) -> dict[str, Any]:
    """One run: its state, stage, progress (minutes walked of all), the reason it failed, its report's link."""
    return _public(_run(sim_runs(request), run_id), gw.settings.token_secret)


def _cancel(run_id: str, request: Request, secret: str) -> dict[str, Any]:
    queue = sim_runs(request)
    _run(queue, run_id)
    try:
        cancelled = queue.cancel(run_id)
    except NotCancellable as exc:
        raise StateConflict(str(exc)) from None
    assert cancelled is not None
    return _public(cancelled, secret)


@router.delete("/runs/{run_id}", response_model=SimRunPublic, responses=error_responses(404, 409, 422))
def cancel(run_id: RunId, _: Planner, request: Request, gw: GatewayDep) -> dict[str, Any]:
    """Cancel a queued or running run (a running one stops within a simulated minute); 409 once finished."""
    return _cancel(run_id, request, gw.settings.token_secret)


@router.post("/runs/{run_id}/cancel", response_model=SimRunPublic, responses=error_responses(404, 409, 422))
def cancel_post(run_id: RunId, _: Planner, request: Request, gw: GatewayDep) -> dict[str, Any]:
    """The same as DELETE, for clients that only POST."""
    return _cancel(run_id, request, gw.settings.token_secret)


@router.get("/runs/{run_id}/report", response_class=Response, responses={**HTML, **error_responses(404, 409)})
def report(run_id: RunId, request: Request, gw: GatewayDep, ticket: Ticket = None) -> HTMLResponse:
    """The report's page, under the pages' content security policy; its style sheet is linked with a fresh
    link of its own."""
    queue = _reader(request, run_id, ticket)
    done = _finished(queue, run_id)
    path = queue.report_dir(run_id) / str(done.report)
    if not path.is_file():
        raise HTTPException(status_code=404, detail=f"run {run_id}'s report is missing")
    page = path.read_text(encoding="utf-8").replace(
        'href="report/style.css"', f'href="report/style.css?ticket={report_ticket(gw.settings.token_secret, run_id)}"')
    return HTMLResponse(page, headers=SECURITY_HEADERS)


@router.get("/runs/{run_id}/kpis", response_class=JSONResponse, responses={
    200: {"content": {"application/json": {"schema": {"type": "object"}}}, "description": "the run's KPIs"},
    **error_responses(404, 409)})
def kpis(run_id: RunId, request: Request, ticket: Ticket = None) -> Response:
    """The run's KPIs (the simulator's kpis.json: a scenario's, a campaign's summary, or both compared runs)."""
    queue = _reader(request, run_id, ticket)
    _finished(queue, run_id)
    path = queue.report_dir(run_id) / "kpis.json"
    if not path.is_file():
        raise HTTPException(status_code=404, detail=f"run {run_id} wrote no kpis.json")
    return JSONResponse(json.loads(path.read_text(encoding="utf-8")))


@router.get("/runs/{run_id}/report/{name}", response_class=FileResponse, responses={**ASSET, **error_responses(404)})
def report_file(run_id: RunId, name: str, request: Request, ticket: Ticket = None) -> FileResponse:
    """A file of the report's folder (style sheet, CSV tables, JSON, GeoJSON); anything else is 404."""
    queue = _reader(request, run_id, ticket)
    _finished(queue, run_id)
    folder = queue.report_dir(run_id)
    path = folder / name
    suffix = FilePath(name).suffix
    if path.parent != folder or suffix not in ASSET_TYPES or not path.is_file():
        raise HTTPException(status_code=404, detail=f"no file {name!r} in run {run_id}'s report")
    return FileResponse(path, media_type=ASSET_TYPES[suffix], headers=SECURITY_HEADERS)
