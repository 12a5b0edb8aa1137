"""The planners' run queue: simulator jobs launched from the dashboard, run outside the gateway's process.

A run is queued, then running in one of at most ``concurrent`` worker processes (``simulator.worker``,
started on demand, kept warm for ``worker_idle_s`` and let go after), then done, failed (with the reason) or
cancelled. Its progress (minutes of the day walked out of all the job walks, and the stage) comes back on the
worker's output. Each run is a folder under ``runs_dir``: ``run.json`` (request, state, progress, times) and
``report/`` (the simulator's page, ``kpis.json``, CSV tables), so the list survives a restart: a run that was
running when the gateway stopped reads as failed, "interrupted"; queued runs queue again. Each run names the
gateway process that has it (host:pid): runs of another gateway still alive on this machine over the same folder
are listed as it last wrote them and left to it.

Configured by ``CITYMATCH_PLANNER_*`` (:class:`PlannerConfig`). Only the standard library and pydantic are
imported here: the simulator lives in the worker's interpreter (``worker_python``), never in the gateway.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import secrets
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, Literal

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from services.gateway.idempotency import IdempotencyConflict, fingerprint
from shared.errors import DomainError
from shared.settings import REPO_ROOT, EnvConfig

log = logging.getLogger("citymatch.gateway.planner")

Kind = Literal["scenario", "campaign_replay", "compare"]
KINDS: tuple[str, ...] = ("scenario", "campaign_replay", "compare")
State = Literal["queued", "running", "done", "failed", "cancelled"]
ACTIVE = ("queued", "running")
FINISHED = ("done", "failed", "cancelled")
INTERRUPTED = "interrupted"
SCENARIO_DIR = REPO_ROOT / "simulator" / "scenarios"
RUN_ID_PATTERN = r"^[0-9]{8}T[0-9]{6}Z-[0-9a-f]{6}$"
SAVE_PROGRESS_EVERY_S = 1.0  # run.json is rewritten at most this often while a run walks


class PlannerConfig(EnvConfig):
    """``CITYMATCH_PLANNER_*``: where runs live and how many run at once."""

    model_config = SettingsConfigDict(env_prefix="CITYMATCH_PLANNER_")

    runs_dir: str = str(REPO_ROOT / "reports" / "sim" / "runs")
    concurrent: int = Field(1, ge=1, le=2, description="runs at the same time (one worker process each)")
    queue_limit: int = Field(20, ge=1, le=1000, description="queued runs at most; more are refused (429)")
    keep_runs: int = Field(200, ge=1, description="finished runs kept; the oldest beyond are deleted")
    worker_python: str = Field(sys.executable, description="interpreter with the simulator's packages")
    worker_idle_s: float = Field(300.0, gt=0, description="an idle worker is let go after this long")
    cancel_grace_s: float = Field(10.0, gt=0, description="a cancelled run's worker is stopped after this long")


class QueueFull(DomainError):
    """Too many runs wait already (HTTP 429)."""


class NotCancellable(DomainError):
    """The run has finished (HTTP 409)."""


def shipped_scenarios() -> list[str]:
    """The scenarios shipped with the simulator (names of ``simulator/scenarios/*.yaml``)."""
    return sorted(p.stem for p in SCENARIO_DIR.glob("*.yaml"))


def _alive_elsewhere(owner: str) -> bool:
    """Whether ``owner`` (host:pid) is another process still alive on this machine."""
    host, _, pid = owner.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit() or int(pid) == os.getpid():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _order(run: Run) -> tuple[str, int, str]:
    return run.created_at, run.seq, run.id


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _new_id() -> str:
    return f"{datetime.now(UTC):%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}"


@dataclass
class Run:
    """One run as ``run.json`` holds it (and the API shows it, less the idempotency fields)."""

    id: str
    kind: str
    scenario: str
    against: str | None
    agents: int | None
    seed: int | None
    requested_by: str
    created_at: str
    state: str = "queued"
    stage: str = "waiting"
    minutes: int = 0
    total_minutes: int = 0
    started_at: str | None = None
    finished_at: str | None = None
    reason: str | None = None
    report: str | None = None  # the report's page in report/, once done
    idempotency: str | None = None  # digest of (requester, Idempotency-Key)
    fingerprint: str = ""
    owner: str = ""  # the gateway process that queued or ran it: host:pid
    seq: int = 0  # the order runs were queued in (first come, first served; the list newest first)


    @property
    def request(self) -> dict[str, Any]:
        return {"kind": self.kind, "scenario": self.scenario, "against": self.against, "agents": self.agents,
                "seed": self.seed}

    def public(self) -> dict[str, Any]:
        out = asdict(self)
        del out["idempotency"], out["fingerprint"], out["owner"], out["seq"]
        return out


@dataclass
class _Worker:
    """One worker process and the run it has (``None`` while idle)."""

    proc: subprocess.Popen[str]
    stdin: IO[str]
    current: str | None = None
    idle_since: float = field(default_factory=time.monotonic)
    cancel_deadline: float | None = None
    exited: bool = False
    last_words: deque[str] = field(default_factory=lambda: deque(maxlen=20))  # its stderr's last lines
    stderr_reader: threading.Thread | None = None


class SimRunQueue:
    """The runs, their folders and the worker processes; thread-safe, every method returns at once."""

    def __init__(self, config: PlannerConfig | None = None, *,
                 worker_command: Callable[[], list[str]] | None = None) -> None:
        self.config = config or PlannerConfig()
        self.root = Path(self.config.runs_dir)
        self.root.mkdir(parents=True, exist_ok=True)
        self._worker_command = worker_command or self._default_command
        self._lock = threading.Condition()
        self._runs: dict[str, Run] = {}
        self._saved_at: dict[str, float] = {}
        self._workers: list[_Worker] = []
        self._closed = False
        self._owner = f"{socket.gethostname()}:{os.getpid()}"
        self._load()
        self._dispatcher = threading.Thread(target=self._dispatch_loop, name="sim-runs", daemon=True)
        self._dispatcher.start()

    # ----- the API the routes use
    def submit(self, request: dict[str, Any], requested_by: str, idempotency_key: str | None = None) -> Run:
        """Queue a run (``request``: kind, scenario, against, agents, seed, already validated). The same
        requester with the same key and request gets the same run; a key reused for another request is a
        conflict."""
        body: dict[str, Any] = {k: request.get(k) for k in ("kind", "scenario", "against", "agents", "seed")}
        digest = fingerprint(body)
        keyed = hashlib.sha256(f"{requested_by}\x00{idempotency_key}".encode()).hexdigest() \
            if idempotency_key else None
        with self._lock:
            if keyed is not None:
                for run in self._runs.values():
                    if run.idempotency == keyed:
                        if run.fingerprint != digest:
                            raise IdempotencyConflict(f"Idempotency-Key {idempotency_key!r} was already used for a "
                                                      "different run; use a new key for a new run")
                        return Run(**asdict(run))
            if sum(r.state == "queued" for r in self._runs.values()) >= self.config.queue_limit:
                raise QueueFull(f"{self.config.queue_limit} runs are waiting already; try again when one has "
                                "started")
            seq = max((r.seq for r in self._runs.values()), default=0) + 1
            run = Run(id=_new_id(), requested_by=requested_by, created_at=_now(), idempotency=keyed,
                      fingerprint=digest, owner=self._owner, seq=seq, **body)
            while run.id in self._runs:
                run.id = _new_id()
            (self.root / run.id).mkdir(parents=True)
            self._runs[run.id] = run
            self._save(run)
            self._lock.notify_all()
            return Run(**asdict(run))

    def get(self, run_id: str) -> Run | None:
        with self._lock:
            run = self._runs.get(run_id)
            return Run(**asdict(run)) if run else None

    def runs(self, limit: int = 50) -> list[Run]:
        """Newest first."""
        with self._lock:
            runs = sorted(self._runs.values(), key=_order, reverse=True)[:limit]
            return [Run(**asdict(r)) for r in runs]

    def cancel(self, run_id: str) -> Run | None:
        """Cancel a queued run at once, or stop a running one (its worker stops within a simulated minute,
        or is ended after ``cancel_grace_s``). A finished run is :class:`NotCancellable`."""
        with self._lock:
            run = self._runs.get(run_id)
            if run is None:
                return None
            if run.state in FINISHED:
                raise NotCancellable(f"run {run_id} has finished ({run.state}); there is nothing to cancel")
            if run.state == "queued":
                self._finish(run, "cancelled", reason="cancelled before it started")
            else:
                worker = self._worker_of(run_id)
                self._finish(run, "cancelled", reason="cancelled while running")
                if worker is not None:
                    self._send(worker, {"op": "cancel", "id": run_id})
                    worker.cancel_deadline = time.monotonic() + self.config.cancel_grace_s
            self._lock.notify_all()
            return Run(**asdict(run))

    def report_dir(self, run_id: str) -> Path:
        return self.root / run_id / "report"

    def worker_pids(self) -> list[int]:
        with self._lock:
            return [w.proc.pid for w in self._workers if not w.exited]

    def close(self) -> None:
        """Stop the workers; runs still running read as failed, interrupted (the gateway stopped)."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            workers = list(self._workers)
            for run in list(self._runs.values()):
                if run.state == "running":
                    self._finish(run, "failed", reason=f"{INTERRUPTED}: the gateway stopped while it ran",
                                 stage=INTERRUPTED)
            self._lock.notify_all()
        for worker in workers:
            self._stop(worker)
        self._dispatcher.join(timeout=5)

    # ----- folders
    def _save(self, run: Run) -> None:
        folder = self.root / run.id
        folder.mkdir(parents=True, exist_ok=True)
        tmp = folder / "run.json.tmp"
        tmp.write_text(json.dumps(asdict(run), indent=2) + "\n", encoding="utf-8")
        os.replace(tmp, folder / "run.json")
        self._saved_at[run.id] = time.monotonic()

    def _load(self) -> None:
        for path in sorted(self.root.glob("*/run.json")):
            try:
                run = Run(**json.loads(path.read_text(encoding="utf-8")))
            except (OSError, ValueError, TypeError) as exc:
                log.warning("skipping %s: %s", path, exc)
                continue
            if run.id != path.parent.name:
                log.warning("skipping %s: it names run %s", path, run.id)
                continue
            self._runs[run.id] = run
            if run.state not in ACTIVE or _alive_elsewhere(run.owner):
                continue  # finished, or another gateway on this machine has it (shown as it last wrote it)
            run.owner = self._owner
            if run.state == "running":  # its worker went with the gateway that ran it
                run.state, run.stage = "failed", INTERRUPTED
                run.reason = f"{INTERRUPTED}: the gateway stopped while it ran"
                run.finished_at = run.finished_at or _now()
            else:  # queued: it waits here now
                run.stage = "waiting"
            self._save(run)

    def _prune(self) -> None:
        finished = sorted((r for r in self._runs.values() if r.state in FINISHED), key=_order)
        for run in finished[:max(0, len(finished) - self.config.keep_runs)]:
            del self._runs[run.id]
            shutil.rmtree(self.root / run.id, ignore_errors=True)

    # ----- state changes (under the lock)
    def _finish(self, run: Run, state: State, *, reason: str | None = None, report: str | None = None,
                stage: str | None = None) -> None:
        run.state, run.reason, run.finished_at = state, reason, _now()
        run.stage = stage or state
        if report is not None:
            run.report = report
        self._save(run)
        self._prune()

    def _on_event(self, worker: _Worker, msg: dict[str, Any]) -> None:
        run = self._runs.get(str(msg.get("id")))
        event = msg.get("event")
        if event == "ready" or run is None or worker.current != run.id:
            return
        if event in ("done", "failed", "cancelled"):
            worker.current, worker.idle_since, worker.cancel_deadline = None, time.monotonic(), None
        if run.state != "running":  # cancelled here already: the worker's last word changes nothing
            return
        if event == "progress":
            run.minutes, run.total_minutes = int(msg.get("minutes", 0)), int(msg.get("total", 0))
            run.stage = str(msg.get("stage", run.stage))
            if time.monotonic() - self._saved_at.get(run.id, 0.0) >= SAVE_PROGRESS_EVERY_S:
                self._save(run)
        elif event == "done":
            run.minutes, run.total_minutes = int(msg.get("minutes", run.minutes)), int(msg.get("total", 0))
            self._finish(run, "done", report=str(msg.get("report") or ""))
        elif event == "failed":
            self._finish(run, "failed", reason=str(msg.get("reason") or "the run failed"))
        elif event == "cancelled":
            self._finish(run, "cancelled", reason="cancelled while running")

    def _on_exit(self, worker: _Worker, code: int | None) -> None:
        worker.exited = True
        if worker in self._workers:
            self._workers.remove(worker)
        run = self._runs.get(worker.current or "")
        if run is not None and run.state == "running":
            how = f"signal {-code}" if code is not None and code < 0 else f"exit code {code}"
            said = next((line for line in reversed(worker.last_words) if line.strip()), "")
            self._finish(run, "failed", reason=f"the simulator's worker stopped ({how}) while it ran"
                                               + (f": {said.strip()[:300]}" if said else ""))

    # ----- workers
    def _default_command(self) -> list[str]:
        return [self.config.worker_python, "-m", "simulator.worker"]

    def _spawn(self) -> _Worker:
        env = {**os.environ, "MPLBACKEND": "Agg", "PYTHONUNBUFFERED": "1",
               "PYTHONPATH": os.pathsep.join(p for p in (str(REPO_ROOT), os.environ.get("PYTHONPATH", "")) if p)}
        proc = subprocess.Popen(self._worker_command(), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, encoding="utf-8", errors="replace", cwd=REPO_ROOT,
                                env=env, bufsize=1)
        assert proc.stdin is not None and proc.stdout is not None and proc.stderr is not None
        worker = _Worker(proc, proc.stdin)
        threading.Thread(target=self._read, args=(worker, proc.stdout), name=f"sim-worker-{proc.pid}",
                         daemon=True).start()
        worker.stderr_reader = threading.Thread(target=self._read_stderr, args=(worker, proc.stderr),
                                                name=f"sim-worker-{proc.pid}-err", daemon=True)
        worker.stderr_reader.start()
        self._workers.append(worker)
        log.info("simulator worker %d started", proc.pid)
        return worker

    def _read(self, worker: _Worker, stdout: IO[str]) -> None:
        for line in stdout:
            try:
                msg = json.loads(line)
            except ValueError:
                log.warning("worker %d said %r", worker.proc.pid, line[:200])
                continue
            with self._lock:
                self._on_event(worker, msg)
                self._lock.notify_all()
        code = worker.proc.wait()
        if worker.stderr_reader is not None:
            worker.stderr_reader.join(timeout=2)  # its last words say why it stopped
        with self._lock:
            self._on_exit(worker, code)
            self._lock.notify_all()

    def _read_stderr(self, worker: _Worker, stderr: IO[str]) -> None:
        """The worker's own output and the libraries' (warnings, a traceback): logged, the last lines kept
        to say why it stopped."""
        for line in stderr:
            worker.last_words.append(line.rstrip())
            log.debug("worker %d: %s", worker.proc.pid, line.rstrip())

    def _send(self, worker: _Worker, msg: dict[str, Any]) -> bool:
        try:
            worker.stdin.write(json.dumps(msg) + "\n")
            worker.stdin.flush()
            return True
        except (OSError, ValueError):  # the worker has gone; its reader reports the exit
            return False

    def _stop(self, worker: _Worker) -> None:
        with contextlib.suppress(OSError):
            worker.stdin.close()  # end of input: the worker stops its job and exits
        try:
            worker.proc.wait(timeout=3)
        except subprocess.TimeoutExpired:
            worker.proc.kill()
            worker.proc.wait(timeout=5)

    def _worker_of(self, run_id: str) -> _Worker | None:
        return next((w for w in self._workers if w.current == run_id), None)

    def _dispatch_loop(self) -> None:
        while True:
            to_stop: list[_Worker] = []
            with self._lock:
                if self._closed:
                    return
                now = time.monotonic()
                for worker in list(self._workers):
                    late = worker.cancel_deadline is not None and now >= worker.cancel_deadline
                    idle = worker.current is None and now - worker.idle_since >= self.config.worker_idle_s
                    if late or idle:
                        self._workers.remove(worker)
                        to_stop.append(worker)
                waiting = sorted((r for r in self._runs.values() if r.state == "queued" and r.owner == self._owner),
                                 key=_order)
                for run in waiting:
                    free = next((w for w in self._workers if w.current is None), None)
                    if free is None and len(self._workers) < self.config.concurrent:
                        try:
                            free = self._spawn()
                        except OSError as exc:
                            self._finish(run, "failed", reason=f"the simulator's worker could not start: {exc}")
                            continue
                    if free is None:
                        break
                    run.state, run.stage, run.started_at = "running", "starting", _now()
                    run.minutes, run.total_minutes = 0, 0
                    free.current, free.cancel_deadline = run.id, None
                    self._save(run)
                    ok = self._send(free, {"op": "run", "id": run.id, "dir": str(self.report_dir(run.id)),
                                             "request": run.request})
                    if not ok:
                        self._finish(run, "failed", reason="the simulator's worker stopped before the run began")
                        free.current = None
                if not to_stop:
                    self._lock.wait(timeout=0.5)
            for worker in to_stop:
                self._stop(worker)
