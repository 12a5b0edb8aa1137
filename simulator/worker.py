"""The planner's simulator worker: a process of its own that runs the simulator's jobs the gateway hands it.

``python -m simulator.worker`` reads one JSON object per line on stdin and answers one per line on
stdout (its own output and the libraries' go to stderr):

- in: ``{"op": "run", "id", "dir", "request": {kind, scenario, against, agents, seed}}`` (one job at a time),
  ``{"op": "cancel", "id"}``; end of input (the gateway stopped or let it go) ends the worker.
- out: ``ready`` once the simulator is imported, then per job ``started``, ``progress`` (minutes of the day
  walked / all the job walks, the stage), and one of ``done`` (the report's page), ``failed`` (the reason),
  ``cancelled``.

Jobs are what the ``citymatch sim`` commands do: a scenario's day and its report (``sim run``), a campaign's day
against the day without it (``sim campaign``), two scenarios side by side (``sim compare``). Every simulated
minute passes through a watcher (``simulator.engine.watch_minutes``) that reports progress and stops the walk
when the job is cancelled. Reports are rewritten for the pages' content security policy: their inline styles
move to ``style.css`` beside them (plots stay embedded as ``data:`` PNGs, which the policy allows).
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import re
import sys
import threading
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

PROGRESS_EVERY_S = 0.2  # at most five progress lines a second
DAY_MIN = 1440
STYLE_BLOCK = re.compile(r"<style[^>]*>(.*?)</style>", re.S | re.I)
STYLESHEET = "style.css"
# `citymatch sim campaign`'s defaults: daily budget (yen), worst-case guard (x budget), the goal's cut, app reach.
CAMPAIGN_BUDGET_YEN, CAMPAIGN_GUARD_FACTOR, CAMPAIGN_SHARE, CAMPAIGN_REACH, CAMPAIGN_SEED = 50_000, 3, 0.1, 0.3, 7


class Cancelled(Exception):
    """The gateway asked to stop this job."""


def csp_page(page: str) -> tuple[str, str]:
    """The page with its ``<style>`` blocks replaced by one link to ``report/style.css``, and that sheet.

    The link is relative to ``.../runs/<id>/report``, where the gateway serves the page."""
    sheets = [m.group(1).strip() for m in STYLE_BLOCK.finditer(page)]
    if not sheets:
        return page, ""
    link = f'<link rel="stylesheet" href="report/{STYLESHEET}">'
    first = True

    def swap(_match: re.Match[str]) -> str:
        nonlocal first
        out, first = (link if first else ""), False
        return out

    return STYLE_BLOCK.sub(swap, page), "\n".join(sheets) + "\n"


def _for_csp(page_path: Path) -> None:
    page, sheet = csp_page(page_path.read_text(encoding="utf-8"))
    if sheet:
        (page_path.parent / STYLESHEET).write_text(sheet, encoding="utf-8")
        page_path.write_text(page, encoding="utf-8")


class Job:
    """One run: its request, where it writes, and how it reports back."""

    def __init__(self, run_id: str, out: Path, request: dict[str, Any], emit: Callable[[dict[str, Any]], None],
                 cancelled: threading.Event) -> None:
        self.run_id, self.out, self.request = run_id, out, request
        self._emit, self._cancelled = emit, cancelled
        self.minutes, self.total, self.stage = 0, 0, "preparing"
        self._last = 0.0

    def progress(self, stage: str | None = None, *, force: bool = False) -> None:
        if self._cancelled.is_set():
            raise Cancelled()
        if stage is not None and stage != self.stage:
            self.stage, force = stage, True
        now = time.monotonic()
        if force or now - self._last >= PROGRESS_EVERY_S:
            self._last = now
            self._emit({"event": "progress", "id": self.run_id, "minutes": self.minutes, "total": self.total,
                        "stage": self.stage})

    def minute(self, _t: int) -> None:
        self.minutes += 1
        self.progress()


def _scenario(name: str, seed: int | None) -> Any:
    from simulator.scenario import load_scenario

    s = load_scenario(name)
    return s.with_overrides(seed=seed) if seed is not None else s


def _passes(s: Any) -> int:
    return DAY_MIN * (2 if s.offers else 1)


def run_scenario_job(job: Job) -> str:
    """``citymatch sim run``: the day (and the day without the offers, when it has any) and its report."""
    from simulator.engine import watch_minutes
    from simulator.report import write_report
    from simulator.run import run_scenario

    req = job.request
    s = _scenario(req["scenario"], req.get("seed"))
    job.total = _passes(s)
    job.progress("simulating", force=True)
    with watch_minutes(job.minute):
        sim = run_scenario(s, agents=req.get("agents"))
    job.progress("writing_report")
    written = write_report(sim, job.out)
    _for_csp(written["report.html"])
    return "report.html"


def run_campaign_job(job: Job) -> str:
    """``citymatch sim campaign``: the Ebina gate campaign's day, round by round, replayed against the day
    without it (same population and seed), with the command's defaults."""
    from services.incentives.adapters import simulated_city as city
    from services.incentives.adapters.report import summary, write_report
    from services.incentives.campaign_day import run_day
    from services.incentives.ebina import gate_campaign
    from simulator.engine import watch_minutes

    req = job.request
    seed = int(req["seed"]) if req.get("seed") is not None else CAMPAIGN_SEED
    campaign = gate_campaign(CAMPAIGN_BUDGET_YEN, guard_factor=CAMPAIGN_GUARD_FACTOR, share=CAMPAIGN_SHARE)
    job.total = 2 * DAY_MIN  # the day without offers, then the replay with the accepted ones
    job.progress("simulating", force=True)
    with watch_minutes(job.minute):
        peak = city.load_peak(campaign, req["scenario"], reach=CAMPAIGN_REACH, seed=seed, agents=req.get("agents"))
        job.progress("campaign_rounds")
        day = run_day(campaign, peak, prior=city.true_acceptance(campaign), seed=seed)
    job.progress("writing_report")
    page = write_report(day, job.out)
    (job.out / "kpis.json").write_text(json.dumps(summary(day), indent=2, ensure_ascii=False, default=str) + "\n",
                                       encoding="utf-8")
    _for_csp(page)
    return page.name


def run_compare_job(job: Job) -> str:
    """``citymatch sim compare``: two shipped scenarios at the same population size, side by side; per 1,000
    people (with the note why) when they simulate different shares of the ridership, refused when they cannot
    be compared at all."""
    from simulator.compare import check, per_person
    from simulator.engine import watch_minutes
    from simulator.report import write_compare
    from simulator.run import run_scenario

    req = job.request
    scenarios = [_scenario(req["scenario"], req.get("seed")), _scenario(req["against"], req.get("seed"))]
    job.total = sum(_passes(s) for s in scenarios)
    job.progress("simulating", force=True)
    with watch_minutes(job.minute):
        a, b = (run_scenario(s, agents=req.get("agents")).kpis for s in scenarios)
    verdict = check(a, b)
    if verdict.problems:
        raise ValueError("these two runs cannot be compared: " + "; ".join(verdict.problems))
    note = ""
    if verdict.population:
        a, b = per_person(a), per_person(b)
        note = ("Per 1,000 simulated people, because the runs simulate different shares of the ridership "
                "(levels of service are left out: they depend on absolute crowding). " + " ".join(verdict.population))
    job.progress("writing_report")
    page = write_compare(a, b, job.out, note=note)
    (job.out / "kpis.json").write_text(json.dumps({"a": a, "b": b, "note": note}, indent=2, ensure_ascii=False,
                                                  default=str) + "\n", encoding="utf-8")
    _for_csp(page)
    return page.name


JOBS: dict[str, Callable[[Job], str]] = {"scenario": run_scenario_job, "campaign_replay": run_campaign_job,
                                         "compare": run_compare_job}


def reason_of(exc: BaseException) -> str:
    """One line a planner can read: the error's own message, else its kind."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def execute(run_id: str, out: Path, request: dict[str, Any], emit: Callable[[dict[str, Any]], None],
            cancelled: threading.Event) -> None:
    """Run one job and emit its ending (done, failed with the reason, or cancelled); never raises."""
    emit({"event": "started", "id": run_id})
    job = Job(run_id, out, request, emit, cancelled)
    try:
        out.mkdir(parents=True, exist_ok=True)
        kind = request.get("kind")
        if kind not in JOBS:
            raise ValueError(f"unknown kind {kind!r}; known: {', '.join(JOBS)}")
        page = JOBS[kind](job)
        job.progress(force=True)
        emit({"event": "done", "id": run_id, "report": page, "minutes": job.minutes, "total": job.total})
    except Cancelled:
        emit({"event": "cancelled", "id": run_id})
    except Exception as exc:  # a run's failure is reported with its reason; the worker goes on
        with contextlib.suppress(OSError):
            (out / "traceback.txt").write_text(traceback.format_exc(), encoding="utf-8")
        emit({"event": "failed", "id": run_id, "reason": reason_of(exc)})


def _preload() -> None:
    """Import the simulator once, before the first job, so runs start at once."""
    for module in ("simulator.run", "simulator.report", "services.incentives.campaign_day",
                   "services.incentives.adapters.report"):
        importlib.import_module(module)


def serve(inp: IO[str], out: IO[str]) -> None:
    """The worker's loop: jobs from ``inp`` one at a time, cancels noticed while a job runs."""
    lock = threading.Lock()

    def emit(message: dict[str, Any]) -> None:
        with lock:
            out.write(json.dumps(message) + "\n")
            out.flush()

    jobs: list[dict[str, Any]] = []
    wake = threading.Condition()
    cancelled: dict[str, threading.Event] = {}
    closed = threading.Event()

    def read() -> None:
        for line in inp:
            try:
                msg = json.loads(line)
            except ValueError:
                continue
            with wake:
                if msg.get("op") == "run":
                    cancelled.setdefault(msg["id"], threading.Event())
                    jobs.append(msg)
                elif msg.get("op") == "cancel":
                    cancelled.setdefault(msg["id"], threading.Event()).set()
                wake.notify()
        closed.set()
        with wake:
            for event in cancelled.values():
                event.set()
            wake.notify()

    threading.Thread(target=read, name="sim-worker-input", daemon=True).start()
    _preload()
    emit({"event": "ready", "pid": os.getpid()})
    while True:
        with wake:
            while not jobs and not closed.is_set():
                wake.wait()
            if closed.is_set():
                return
            msg = jobs.pop(0)
        flag = cancelled[msg["id"]]
        if flag.is_set():
            emit({"event": "cancelled", "id": msg["id"]})
        else:
            execute(msg["id"], Path(msg["dir"]), msg["request"], emit, flag)
        with wake:
            cancelled.pop(msg["id"], None)


def main() -> int:
    # The protocol keeps the real stdout; anything else printed (libraries, warnings) goes to stderr.
    protocol = os.fdopen(os.dup(sys.stdout.fileno()), "w", encoding="utf-8")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    os.environ.setdefault("MPLBACKEND", "Agg")
    nice = int(os.environ.get("CITYMATCH_PLANNER_WORKER_NICE", "10"))
    if nice:
        os.nice(nice)  # the gateway shares the machine: the simulator yields to it
    with contextlib.suppress(BrokenPipeError):  # the gateway went away while we wrote
        serve(sys.stdin, protocol)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
