"""The planners' run queue with the real simulator worker: runs go queued, running (progress moving), done with
their report; a failure keeps its reason; cancel stops a queued or running run; at most ``concurrent`` run at
once; a restart shows a run cut off as interrupted and queues the waiting ones again.

The workers are started once for the module (importing the simulator takes a few seconds); the runs are small
(a few hundred people), so each takes about a second once a worker is warm."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import sys
import time
from pathlib import Path

import pytest

from services.gateway.sim_runs import NotCancellable, PlannerConfig, SimRunQueue
from simulator.worker import csp_page

SMALL = {"kind": "scenario", "scenario": "ebina_weekday", "agents": 300, "seed": 5}
SILENT_WORKER = [sys.executable, "-c", "import sys\nfor _ in sys.stdin: pass"]
EXTERNAL = re.compile(r"""(?:src|href)\s*=\s*["']?(?!data:|report/|#)[^"'\s>]+""", re.I)


def wait_for(queue: SimRunQueue, run_id: str, states: tuple[str, ...], timeout: float = 60.0,
              minutes_at_least: int = 0) -> list[tuple[str, str, int, int]]:
    """Samples of (state, stage, minutes, total) every 10 ms until the run is in one of ``states``."""
    seen: list[tuple[str, str, int, int]] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run = queue.get(run_id)
        assert run is not None
        sample = (run.state, run.stage, run.minutes, run.total_minutes)
        if not seen or seen[-1] != sample:
            seen.append(sample)
        if run.state in states and run.minutes >= minutes_at_least:
            return seen
        time.sleep(0.01)
    raise AssertionError(f"run {run_id} did not reach {states}: {seen[-5:]}")


@pytest.fixture(scope="module")
def queue(tmp_path_factory):
    """Two warm workers over a fresh folder."""
    q = SimRunQueue(PlannerConfig(runs_dir=str(tmp_path_factory.mktemp("runs")), concurrent=2, cancel_grace_s=20))
    warm = [q.submit({**SMALL, "seed": s}, "warm-up") for s in (1, 2)]
    for run in warm:
        wait_for(q, run.id, ("done",), timeout=240)
    assert len(q.worker_pids()) == 2
    yield q
    q.close()


def test_a_run_goes_queued_running_done_with_its_progress_moving(queue):
    run = queue.submit(SMALL, "plan-aiko")
    assert run.state == "queued" and run.minutes == 0
    seen = wait_for(queue, run.id, ("done",))
    states = [s[0] for s in seen]
    assert states[0] == "queued" and "running" in states and states[-1] == "done"
    minutes = [s[2] for s in seen if s[0] == "running"]
    assert minutes == sorted(minutes) and len(set(minutes)) >= 3, seen  # it moved, and only forward
    assert {"simulating", "writing_report"} <= {s[1] for s in seen}
    done = queue.get(run.id)
    assert done.minutes == done.total_minutes == 2 * 1440  # the day without the offers, then with them
    assert done.report == "report.html" and done.reason is None and done.finished_at >= done.started_at
    folder = queue.report_dir(run.id)
    kpis = json.loads((folder / "kpis.json").read_text())
    assert kpis["scenario"] == "ebina_weekday" and kpis["seed"] == 5 and 290 <= kpis["agents"] <= 310
    page = (folder / "report.html").read_text()
    assert "<style" not in page and '<link rel="stylesheet" href="report/style.css">' in page
    assert "<script" not in page.lower() and EXTERNAL.findall(page) == []  # nothing but data: plots and the sheet
    assert "font-family" in (folder / "style.css").read_text()
    assert json.loads((folder.parent / "run.json").read_text())["state"] == "done"


def test_a_campaign_replay_and_a_comparison_run_to_their_reports(queue):
    campaign = queue.submit({"kind": "campaign_replay", "scenario": "ebina_weekday", "agents": 1500}, "plan-aiko")
    compare = queue.submit({"kind": "compare", "scenario": "ebina_weekday", "against": "ebina_rainy_saturday",
                            "agents": 300}, "plan-aiko")
    wait_for(queue, campaign.id, ("done",))
    wait_for(queue, compare.id, ("done",))
    c = queue.get(campaign.id)
    assert c.report == "report.html" and c.total_minutes == 2 * 1440
    summary = json.loads((queue.report_dir(c.id) / "kpis.json").read_text())
    assert {"offers_sent", "yen_spent", "window_cut_pct", "goal_met"} <= set(summary)
    page = (queue.report_dir(c.id) / "report.html").read_text()
    assert "キャンペーン報告" in page and "<style" not in page and EXTERNAL.findall(page) == []
    k = queue.get(compare.id)
    assert k.report == "compare.html" and k.total_minutes == 4 * 1440  # both scenarios have offers
    both = json.loads((queue.report_dir(k.id) / "kpis.json").read_text())
    assert both["a"]["scenario"] == "ebina_weekday" and both["b"]["scenario"] == "ebina_rainy_saturday"
    assert both["note"].startswith("Per 1,000 simulated people")  # the same people, different ridership shares
    assert EXTERNAL.findall((queue.report_dir(k.id) / "compare.html").read_text()) == []


def test_a_failure_keeps_its_reason_and_the_worker_goes_on(queue):
    bad = queue.submit({**SMALL, "scenario": "ebina_nowhere"}, "plan-aiko")  # the routes refuse this name
    wait_for(queue, bad.id, ("failed",))
    failed = queue.get(bad.id)
    assert failed.reason.startswith("FileNotFoundError: no scenario file 'ebina_nowhere' (shipped: ")
    assert "Traceback" in (queue.report_dir(bad.id) / "traceback.txt").read_text()
    pids = queue.worker_pids()
    after = queue.submit(SMALL, "plan-aiko")
    wait_for(queue, after.id, ("done",))
    assert queue.worker_pids() == pids  # the same warm workers


def test_cancel_a_running_run_stops_its_walk_and_keeps_the_worker(queue):
    long = queue.submit({**SMALL, "agents": 120_000}, "plan-aiko")
    wait_for(queue, long.id, ("running",), minutes_at_least=1)
    worker = next(w for w in queue._workers if w.current == long.id)
    stopped = queue.cancel(long.id)
    assert stopped.state == "cancelled" and stopped.reason == "cancelled while running"
    asked = time.monotonic()
    while worker.current is not None:  # the worker says it stopped: within a simulated minute or the report
        assert time.monotonic() - asked < 5
        time.sleep(0.01)
    assert worker.proc.pid in queue.worker_pids() and worker.proc.poll() is None  # not killed
    after = queue.submit(SMALL, "plan-aiko")
    wait_for(queue, after.id, ("done",))
    cut = queue.get(long.id)
    assert cut.state == "cancelled" and cut.minutes < cut.total_minutes
    assert not (queue.report_dir(long.id) / "report.html").exists()


def test_cancel_a_queued_run_before_it_starts(tmp_path):
    q = SimRunQueue(PlannerConfig(runs_dir=str(tmp_path), concurrent=1), worker_command=lambda: SILENT_WORKER)
    try:
        first, second = q.submit(SMALL, "plan-aiko"), q.submit({**SMALL, "seed": 6}, "plan-aiko")
        wait_for(q, first.id, ("running",))
        assert q.get(second.id).state == "queued"  # one worker, busy
        cancelled = q.cancel(second.id)
        assert cancelled.state == "cancelled" and cancelled.reason == "cancelled before it started"
        assert q.get(second.id).started_at is None
        with pytest.raises(NotCancellable, match="has finished"):
            q.cancel(second.id)
        assert q.get(first.id).state == "running"
    finally:
        q.close()


def test_at_most_the_configured_number_run_at_once(queue):
    runs = [queue.submit({**SMALL, "seed": s}, "plan-aiko") for s in range(10, 14)]
    most, deadline = 0, time.monotonic() + 120
    while time.monotonic() < deadline:
        states = [queue.get(r.id).state for r in runs]
        most = max(most, states.count("running"))
        if all(s == "done" for s in states):
            break
        time.sleep(0.01)
    assert [queue.get(r.id).state for r in runs] == ["done"] * 4
    assert most == 2
    started = sorted(runs, key=lambda r: queue.get(r.id).started_at)
    assert [r.id for r in started[:2]] == [r.id for r in runs[:2]]  # first come, first served


def test_a_worker_that_dies_fails_its_run_and_a_new_one_takes_the_next(queue):
    big = queue.submit({**SMALL, "agents": 60_000}, "plan-aiko")
    wait_for(queue, big.id, ("running",), minutes_at_least=1)
    pid = next(w.proc.pid for w in queue._workers if w.current == big.id)
    os.kill(pid, signal.SIGKILL)
    wait_for(queue, big.id, ("failed",))
    assert queue.get(big.id).reason.startswith("the simulator's worker stopped (signal 9) while it ran")
    assert pid not in queue.worker_pids()
    after = queue.submit(SMALL, "plan-aiko")
    wait_for(queue, after.id, ("done",), timeout=240)


def test_after_a_restart_a_cut_off_run_is_interrupted_and_waiting_ones_queue_again(tmp_path):
    config = PlannerConfig(runs_dir=str(tmp_path / "before"), concurrent=1)
    before = SimRunQueue(config, worker_command=lambda: SILENT_WORKER)  # takes the job and never answers
    running = before.submit(SMALL, "plan-aiko", idempotency_key="k-7")
    waiting = before.submit({**SMALL, "seed": 9}, "plan-aiko")
    wait_for(before, running.id, ("running",))
    # the folder as a gateway that died now leaves it
    shutil.copytree(tmp_path / "before", tmp_path / "after")
    before.close()
    assert before.get(running.id).reason == "interrupted: the gateway stopped while it ran"
    assert before.get(running.id).stage == "interrupted"

    after = SimRunQueue(PlannerConfig(runs_dir=str(tmp_path / "after"), concurrent=1),
                        worker_command=lambda: SILENT_WORKER)
    try:
        cut = after.get(running.id)
        assert cut.state == "failed" and cut.reason == "interrupted: the gateway stopped while it ran"
        assert cut.stage == "interrupted" and cut.finished_at
        assert json.loads((tmp_path / "after" / running.id / "run.json").read_text())["state"] == "failed"
        wait_for(after, waiting.id, ("running",))  # queued again, and picked up
        assert [r.id for r in after.runs()] == [waiting.id, running.id]
        # the same Idempotency-Key still names the same run
        assert after.submit(SMALL, "plan-aiko", idempotency_key="k-7").id == running.id
    finally:
        after.close()


def test_runs_of_another_live_gateway_are_left_to_it(tmp_path):
    folder = tmp_path / "20260101T000000Z-0a0b0c"
    folder.mkdir()
    other = {"id": folder.name, "kind": "scenario", "scenario": "ebina_weekday", "against": None, "agents": 300,
             "seed": None, "requested_by": "plan-aiko", "created_at": "2026-01-01T00:00:00.000Z", "state": "running",
             "stage": "simulating", "minutes": 700, "total_minutes": 2880, "owner": f"{os.uname().nodename}:1"}
    (folder / "run.json").write_text(json.dumps(other))  # pid 1 is alive: another process has it
    q = SimRunQueue(PlannerConfig(runs_dir=str(tmp_path)), worker_command=lambda: SILENT_WORKER)
    try:
        run = q.get(folder.name)
        assert run.state == "running" and run.minutes == 700
        assert q.worker_pids() == []
    finally:
        q.close()


def test_a_page_keeps_no_inline_style():
    page, sheet = csp_page("<html><head><style>body{x:1}</style><style>h1{y:2}</style></head><body></body></html>")
    assert page == '<html><head><link rel="stylesheet" href="report/style.css"></head><body></body></html>'
    assert sheet == "body{x:1}\nh1{y:2}\n"
    assert csp_page("<p>plain</p>") == ("<p>plain</p>", "")


def test_the_gateway_process_never_imports_the_simulator():
    """The routes and the queue are importable without the simulator's packages (the gateway image has none)."""
    import subprocess

    code = ("import sys; import services.gateway.routers.planner, services.gateway.sim_runs; "
            "heavy = sorted(m for m in ('matplotlib', 'geopandas', 'osmnx', 'simulator.run', 'numpy') "
            "if m in sys.modules); print(heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=Path(__file__).parents[3])
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
