"""The planner's simulator routes: who may use them (planners and operators; app users and devices 403), what
a launch must carry (422 naming the field), the run's answers (202, newest first, same Idempotency-Key same
run, cancel), and a finished run's report under the pages' policy, by token or by its signed link.

The worker here is a process that takes jobs and never answers, so runs stay running until cancelled: the
simulator's own runs are in test_sim_runs.py and the browser test."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from services.gateway.app import create_app
from services.gateway.publisher import BusPublisher
from services.gateway.routers.planner import report_ticket
from services.gateway.sim_runs import PlannerConfig, SimRunQueue, shipped_scenarios
from services.settlement.store import open_ledger
from services.settlement.views import LedgerReader
from shared.bus.inprocess import InProcessBus

from .conftest import OPERATOR, SETTINGS, auth

SILENT_WORKER = [sys.executable, "-c", "import sys\nfor _ in sys.stdin: pass"]
PLANNER = auth("plan-aiko", role="planner")
RUN = {"kind": "scenario", "scenario": "ebina_weekday", "agents": 500, "seed": 3}
DONE_ID = "20260101T000000Z-abcdef"


def _done_run(root: Path) -> None:
    """A finished run's folder as the worker leaves it: run.json, and the report with its sheet beside it."""
    folder = root / DONE_ID
    (folder / "report").mkdir(parents=True)
    (folder / "report" / "report.html").write_text(
        '<!doctype html><html><head><link rel="stylesheet" href="report/style.css"></head>'
        "<body><h1>Ebina</h1><img src='data:image/png;base64,iVBORw0KGgo=' alt='plot'></body></html>",
        encoding="utf-8")
    (folder / "report" / "style.css").write_text("body{color:#222}\n", encoding="utf-8")
    (folder / "report" / "kpis.json").write_text(json.dumps({"scenario": "ebina_weekday", "agents": 500}))
    (folder / "report" / "kpis.csv").write_text("kpi,unit\n")
    (folder / "run.json").write_text(json.dumps({
        "id": DONE_ID, "kind": "scenario", "scenario": "ebina_weekday", "against": None, "agents": 500, "seed": 3,
        "requested_by": "plan-aiko", "created_at": "2026-01-01T00:00:00.000Z", "state": "done", "stage": "done",
        "minutes": 2880, "total_minutes": 2880, "started_at": "2026-01-01T00:00:00.100Z",
        "finished_at": "2026-01-01T00:00:05.000Z", "reason": None, "report": "report.html",
        "idempotency": None, "fingerprint": ""}))


@pytest.fixture
def planner_app(tmp_path):
    _done_run(tmp_path)
    queue = SimRunQueue(PlannerConfig(runs_dir=str(tmp_path), concurrent=1, queue_limit=3),
                        worker_command=lambda: SILENT_WORKER)
    ledger = open_ledger("sqlite://")
    app = create_app(SETTINGS, BusPublisher(InProcessBus()), LedgerReader(ledger), sim_runs=queue)
    yield TestClient(app), queue
    queue.close()
    ledger.close()


ONE = f"/v1/planner/sim/runs/{DONE_ID}"
ROUTES = [("get", "/v1/planner/sim/scenarios", None), ("get", "/v1/planner/sim/runs", None),
          ("post", "/v1/planner/sim/runs", RUN), ("get", ONE, None), ("delete", ONE, None),
          ("post", f"{ONE}/cancel", None), ("get", f"{ONE}/report", None), ("get", f"{ONE}/kpis", None),
          ("get", f"{ONE}/report/style.css", None)]


def _call(client, method, path, body, headers):
    return client.request(method.upper(), path, json=body, headers=headers)


def test_app_users_and_devices_get_403_and_no_token_401(planner_app):
    client, queue = planner_app
    for method, path, body in ROUTES:
        for role in ("app-user", "device"):
            r = _call(client, method, path, body, auth("home-1", role=role))
            assert r.status_code == 403, (method, path, role, r.text)
            assert "planner or operator" in r.json()["message"] and f"has role {role}" in r.json()["message"]
        assert _call(client, method, path, body, {}).status_code == 401, (method, path)
    assert queue.runs() and len(queue.runs()) == 1  # nothing was queued by the refused calls


def test_planners_operators_and_the_operator_secret_may_use_them(planner_app):
    client, _ = planner_app
    for headers in (PLANNER, auth("ops-kenji", role="operator"), OPERATOR):
        assert client.get("/v1/planner/sim/runs", headers=headers).status_code == 200
        assert client.get("/v1/planner/sim/scenarios", headers=headers).status_code == 200
    r = client.post("/v1/planner/sim/runs", json=RUN, headers=OPERATOR)
    assert r.status_code == 202 and r.json()["requested_by"] == "operator"


def test_scenarios_are_the_shipped_ones_with_titles_in_both_languages(planner_app):
    client, _ = planner_app
    listed = client.get("/v1/planner/sim/scenarios", headers=PLANNER).json()
    assert sorted(s["name"] for s in listed) == shipped_scenarios()
    assert [s["name"] for s in listed][:3] == ["ebina_weekday", "ebina_weekday_event", "ebina_rainy_saturday"]
    weekday = next(s for s in listed if s["name"] == "ebina_weekday")
    assert weekday["title"]["ja"].startswith("平日") and weekday["title"]["en"].startswith("Weekday")


@pytest.mark.parametrize(("change", "field", "words"), [
    ({"kind": "sweep"}, "kind", "'scenario', 'campaign_replay' or 'compare'"),
    ({"scenario": "ebina_sunday"}, "scenario", "ebina_rainy_saturday, ebina_weekday, ebina_weekday_event"),
    ({"scenario": "../../etc/passwd"}, "scenario", "must be one of the shipped scenarios"),
    ({"agents": 5}, "agents", "greater than or equal to 100"),
    ({"agents": 10_000_000}, "agents", "less than or equal to 250000"),
    ({"seed": -1}, "seed", "greater than or equal to 0"),
    ({"kind": "compare"}, "against", "needs the second shipped scenario"),
    ({"against": "ebina_weekday_event"}, "against", "only kind compare takes against"),
    ({"kind": "compare", "against": "nowhere"}, "against", "must be one of the shipped scenarios"),
    ({"colour": "red"}, "colour", "Extra inputs are not permitted"),
])
def test_a_bad_launch_is_422_naming_the_field(planner_app, change, field, words):
    client, queue = planner_app
    r = client.post("/v1/planner/sim/runs", json={**RUN, **change}, headers=PLANNER)
    assert r.status_code == 422, r.text
    body = r.json()
    assert f"body.{field}" in body["message"] and words in body["message"], body["message"]
    assert ["body", field] in [p["loc"] for p in body["detail"]]
    assert len(queue.runs()) == 1


def _wait_state(client, run_id, state):
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        answer = client.get(f"/v1/planner/sim/runs/{run_id}", headers=PLANNER).json()
        if answer["state"] == state:
            return answer
        time.sleep(0.02)
    raise AssertionError(f"run {run_id} never reached {state}: {answer}")


def test_launch_list_idempotency_and_cancel(planner_app):
    client, _ = planner_app
    first = client.post("/v1/planner/sim/runs", json=RUN, headers={**PLANNER, "Idempotency-Key": "k-1"})
    assert first.status_code == 202
    run = first.json()
    assert run["state"] in ("queued", "running") and run["requested_by"] == "plan-aiko" and run["report_url"] is None
    again = client.post("/v1/planner/sim/runs", json=RUN, headers={**PLANNER, "Idempotency-Key": "k-1"})
    assert again.status_code == 202 and again.json()["id"] == run["id"]
    other = client.post("/v1/planner/sim/runs", json={**RUN, "seed": 4}, headers={**PLANNER, "Idempotency-Key": "k-1"})
    assert other.status_code == 409 and "Idempotency-Key" in other.json()["message"]
    # another planner's same key is their own
    theirs = client.post("/v1/planner/sim/runs", json=RUN,
                         headers={**auth("plan-ben", role="planner"), "Idempotency-Key": "k-1"})
    assert theirs.status_code == 202 and theirs.json()["id"] != run["id"]
    running = _wait_state(client, run["id"], "running")  # one worker: the other waits
    assert running["stage"] == "starting" and running["started_at"]
    assert client.get(f"/v1/planner/sim/runs/{theirs.json()['id']}", headers=PLANNER).json()["state"] == "queued"
    listed = client.get("/v1/planner/sim/runs", headers=PLANNER).json()
    assert [r["id"] for r in listed] == [theirs.json()["id"], run["id"], DONE_ID]  # newest first
    assert client.get("/v1/planner/sim/runs?limit=1", headers=PLANNER).json()[0]["id"] == theirs.json()["id"]

    queued = client.post(f"/v1/planner/sim/runs/{theirs.json()['id']}/cancel", headers=PLANNER)
    assert queued.status_code == 200 and queued.json()["state"] == "cancelled"
    assert queued.json()["reason"] == "cancelled before it started"
    stopped = client.delete(f"/v1/planner/sim/runs/{run['id']}", headers=PLANNER)
    assert stopped.status_code == 200 and stopped.json()["state"] == "cancelled"
    assert stopped.json()["reason"] == "cancelled while running"
    again = client.delete(f"/v1/planner/sim/runs/{run['id']}", headers=PLANNER)
    assert again.status_code == 409 and "has finished (cancelled)" in again.json()["message"]
    assert client.get(f"/v1/planner/sim/runs/{run['id']}/report", headers=PLANNER).status_code == 409


def test_unknown_runs_are_404_and_bad_ids_422(planner_app):
    client, _ = planner_app
    assert client.get("/v1/planner/sim/runs/20260101T000000Z-000000", headers=PLANNER).status_code == 404
    assert client.delete("/v1/planner/sim/runs/20260101T000000Z-000000", headers=PLANNER).status_code == 404
    r = client.get("/v1/planner/sim/runs/..%2F..%2Fetc/report", headers=PLANNER)
    assert r.status_code in (404, 422)
    r = client.get("/v1/planner/sim/runs/not-a-run", headers=PLANNER)
    assert r.status_code == 422 and "run_id" in r.json()["message"]


def test_a_full_queue_is_429(planner_app):
    client, _ = planner_app
    codes = [client.post("/v1/planner/sim/runs", json={**RUN, "seed": i}, headers=PLANNER).status_code
             for i in range(6)]
    # one runs, three wait (the limit), the rest are refused
    assert codes[:4] == [202] * 4 and codes[4:] == [429, 429]


def test_a_finished_report_is_served_under_the_pages_policy(planner_app):
    client, _ = planner_app
    run = client.get(f"/v1/planner/sim/runs/{DONE_ID}", headers=PLANNER).json()
    assert run["state"] == "done" and run["report"] == "report.html"
    assert run["report_url"].startswith(f"/v1/planner/sim/runs/{DONE_ID}/report?ticket=")
    page = client.get(run["report_url"])  # the link alone, no token: what a browser tab opens
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    policy = page.headers["content-security-policy"]
    assert "default-src 'self'" in policy and "style-src 'self'" in policy and "script-src 'self'" in policy
    assert "<h1>Ebina</h1>" in page.text and "<style" not in page.text
    sheet = page.text.split('href="')[1].split('"')[0]
    assert sheet.startswith("report/style.css?ticket=")
    css = client.get(f"/v1/planner/sim/runs/{DONE_ID}/{sheet}")
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css") and "color" in css.text
    assert client.get(run["kpis_url"]).json() == {"scenario": "ebina_weekday", "agents": 500}
    # with the token, no link needed
    assert client.get(f"/v1/planner/sim/runs/{DONE_ID}/report", headers=PLANNER).status_code == 200
    assert client.get(f"/v1/planner/sim/runs/{DONE_ID}/report/kpis.csv", headers=PLANNER).status_code == 200
    # a link is for its run, until it expires; a forged or stale one is no token
    ticket = run["report_url"].split("ticket=")[1]
    assert client.get(f"/v1/planner/sim/runs/20260101T000000Z-000000/report?ticket={ticket}").status_code == 401
    stale = report_ticket(SETTINGS.token_secret, DONE_ID, now=time.time() - 3600)
    assert client.get(f"/v1/planner/sim/runs/{DONE_ID}/report?ticket={stale}").status_code == 401
    assert client.get(f"/v1/planner/sim/runs/{DONE_ID}/report?ticket={ticket[:-2]}xx").status_code == 401
    # only the report's own files
    for name in ("run.json", "..%2Frun.json", "report.html", "missing.css"):
        assert client.get(f"/v1/planner/sim/runs/{DONE_ID}/report/{name}", headers=PLANNER).status_code == 404, name


def test_the_routes_are_tagged_planner_in_the_openapi_document(planner_app):
    client, _ = planner_app
    paths = client.get("/openapi.json").json()["paths"]
    ours = {p: ops for p, ops in paths.items() if p.startswith("/v1/planner/")}
    assert len(ours) == 7
    assert all(op["tags"] == ["planner"] for ops in ours.values() for op in ops.values())
