"""Starts and stops the platform's processes on this machine: one Faust worker per service and the gateway.

Used by ``make up`` (detached, pid files under .run/stack), by the end-to-end tests and by the pipeline
benchmark, so all three run the services exactly the same way. Kafka and PostgreSQL are started separately
(infra/kafka/kafka.sh, infra/postgres/pg.sh).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from shared.settings import REPO_ROOT

SERVICES = ("settlement", "market", "gateway")
# What `make up` runs: every registered service, the OCPP charger gateway, the live simulated city (its counts and
# forecasts are what campaigns are judged on) and the gateway last, so the app and dashboard have all they serve.
PLATFORM = ("settlement", "market", "charging", "charger-gateway", "incentives", "mobility", "logistics",
            "city-monitor", "city-sim", "gateway")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def create_database(server_url: str, prefix: str = "citymatch") -> str:
    """A new, empty database on the PostgreSQL server of ``server_url``; returns its SQLAlchemy URL."""
    import psycopg
    from sqlalchemy.engine import make_url

    url = make_url(server_url)
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(url.set(drivername="postgresql").render_as_string(hide_password=False),
                         autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return url.set(database=name).render_as_string(hide_password=False)


def drop_database(database_url: str) -> None:
    import psycopg
    from sqlalchemy.engine import make_url

    url = make_url(database_url)
    admin = url.set(drivername="postgresql", database="postgres").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)')


@dataclass
class LocalStack:
    kafka: str
    database_url: str
    run_dir: Path
    env: dict[str, str] = field(default_factory=dict)
    gateway_port: int = 0
    services: tuple[str, ...] = SERVICES
    procs: dict[str, subprocess.Popen] = field(default_factory=dict)
    ports: dict[str, int] = field(default_factory=dict)

    def start(self, timeout_s: float = 90, detach: bool = False) -> None:
        """Start every service of ``self.services`` (on the port in ``self.ports`` when one is set there)."""
        from shared.bus.provision import ensure_topics

        self.run_dir.mkdir(parents=True, exist_ok=True)
        ensure_topics(self.kafka)
        for name in self.services:
            port = self.ports.get(name) or ((self.gateway_port or free_port()) if name == "gateway" else free_port())
            self._spawn(name, port, detach)
        try:
            for name in self.services:
                self._wait_ready(name, timeout_s)
        except BaseException:  # a test's timeout too: never leave processes behind
            self.stop()
            raise
        self.write_state()

    def write_state(self, also: dict[str, dict[str, int]] | None = None) -> None:
        """Record pids and ports of the live processes in stack.json: ours, ``also`` (services of an earlier
        `up` still running) and those already recorded there that still run."""
        ours = {name: {"pid": p.pid, "port": self.ports[name]} for name, p in self.procs.items() if p.poll() is None}
        state = {**_running(self.run_dir), **(also or {}), **ours}
        (self.run_dir / "stack.json").write_text(json.dumps(state, indent=2))

    def add_instance(self, service: str, instance: str, timeout_s: float = 90) -> None:
        """One more worker of ``service`` (same consumer group) under the name ``instance``, e.g. "market-2"."""
        self._spawn(instance, free_port(), service=service)
        self._wait_ready(instance, timeout_s)
        self.write_state()

    def _spawn(self, name: str, port: int, detach: bool = False, service: str | None = None) -> None:
        data = self.run_dir / ("data" if service is None else f"data-{name}")  # an extra instance's own
        env = {**os.environ, **self.env, "CITYMATCH_KAFKA_BOOTSTRAP": self.kafka,
               "CITYMATCH_DATABASE_URL": self.database_url, "CITYMATCH_DATA_DIR": str(data),
               "PYTHONUNBUFFERED": "1", "CITYMATCH_WEB_PORT": str(port), "CITYMATCH_GATEWAY_PORT": str(port)}
        with open(self.log(name), "a") as log:
            self.procs[name] = subprocess.Popen([sys.executable, "-m", "services", service or name], cwd=REPO_ROOT,
                                                env=env, stdout=log, stderr=subprocess.STDOUT,
                                                start_new_session=detach)
        self.ports[name] = port

    def crash_and_restart(self, name: str, timeout_s: float = 90) -> None:
        """SIGKILL one service (no clean shutdown, no final commit) and start it again on the same port."""
        proc = self.procs[name]
        proc.kill()
        proc.wait(timeout=20)
        self._spawn(name, self.ports[name])
        self._wait_ready(name, timeout_s)

    def log(self, name: str) -> Path:
        return self.run_dir / f"{name}.log"

    @property
    def gateway_url(self) -> str:
        return f"http://127.0.0.1:{self.ports['gateway']}"

    def _wait_ready(self, name: str, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            proc = self.procs[name]
            if proc.poll() is not None:
                tail = self.log(name).read_text()[-4000:]
                raise RuntimeError(f"{name} exited with code {proc.returncode}; log:\n{tail}")
            try:
                if httpx.get(f"http://127.0.0.1:{self.ports[name]}/ready", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.25)
        raise RuntimeError(f"{name} not ready after {timeout_s:.0f}s; log:\n{self.log(name).read_text()[-4000:]}")

    def stop(self, timeout_s: float = 20) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.terminate()
        for proc in self.procs.values():
            try:
                proc.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                proc.kill()


def _state(run_dir: Path) -> dict[str, dict[str, int]]:
    """Pids and ports of the services a previous `up` started, by name (empty when there was none)."""
    state = run_dir / "stack.json"
    return json.loads(state.read_text()) if state.exists() else {}


def _running(run_dir: Path) -> dict[str, dict[str, int]]:
    """The services of a previous `up` that are still alive, by name."""
    return {name: info for name, info in _state(run_dir).items() if _alive(info["pid"]) and _runs(info["pid"])}


def _runs(pid: int) -> bool:
    """Whether ``pid`` is still a ``python -m services ...`` (and not a recycled pid of something else)."""
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return True  # no /proc here: trust the pid
    return b"-m" in argv and b"services" in argv


def _down(run_dir: Path) -> int:
    state = run_dir / "stack.json"
    if not state.exists():
        print("no stack running (no .run/stack/stack.json)")
        return 0
    pids = {}
    for name, info in _state(run_dir).items():
        try:
            os.kill(info["pid"], signal.SIGTERM)
            pids[name] = info["pid"]
        except ProcessLookupError:
            print(f"{name} was not running")
    deadline = time.monotonic() + 20
    for name, pid in pids.items():
        while time.monotonic() < deadline and _alive(pid):
            time.sleep(0.1)
        if _alive(pid):
            os.kill(pid, signal.SIGKILL)
        print(f"stopped {name} (pid {pid})")
    state.unlink()
    return 0


def _alive(pid: int) -> bool:
    """Whether ``pid`` runs (a process that is exiting or exited but not yet reaped does not)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a child of ours that exited but was not reaped yet is not alive
        if os.waitpid(pid, os.WNOHANG) != (0, 0):
            return False
    except ChildProcessError:
        pass
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(") ", 1)[1][:1]
    except (OSError, IndexError):
        return True  # no /proc here: trust the pid
    return state not in ("Z", "X")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m services.localstack", description=__doc__)
    parser.add_argument("command", choices=["up", "down"])
    parser.add_argument("--run-dir", type=Path, default=REPO_ROOT / ".run" / "stack")
    parser.add_argument("--gateway-port", type=int, default=int(os.environ.get("CITYMATCH_GATEWAY_PORT", 8000)))
    parser.add_argument("--timeout", type=float, default=240, help="seconds each process may take to be ready")
    parser.add_argument("--services", default=os.environ.get("CITYMATCH_UP_SERVICES", ",".join(PLATFORM)),
                        help="comma-separated processes to run (default: the whole platform)")
    args = parser.parse_args(argv)
    wanted = tuple(n.strip() for n in args.services.split(",") if n.strip())
    unknown = sorted(set(wanted) - set(PLATFORM))
    if unknown:
        parser.error(f"--services: unknown {', '.join(unknown)}; choose from {', '.join(PLATFORM)}")
    if args.command == "down":
        return _down(args.run_dir)
    # Safe to repeat: what still runs is kept, what is missing (a worker that died) is started again.
    running = _running(args.run_dir)
    missing = tuple(name for name in wanted if name not in running)
    if not missing:
        print("stack already running: " + ", ".join(f"{n} (pid {i['pid']})" for n, i in running.items())
              + "; stop it with `make down`")
        return 0
    if running:
        print("still running: " + ", ".join(f"{n} (pid {i['pid']})" for n, i in running.items())
              + "; starting " + ", ".join(missing))
    kafka = os.environ.get("KAFKA_BOOTSTRAP", "127.0.0.1:9092")
    database_url = os.environ.get("DATABASE_URL", "")
    if not database_url:
        parser.error("DATABASE_URL must be set (infra/stack.sh sets it)")
    earlier = _state(args.run_dir)
    stack = LocalStack(kafka, database_url, args.run_dir, gateway_port=args.gateway_port, services=missing,
                       ports={name: earlier[name]["port"] for name in missing if name in earlier})
    stack.start(timeout_s=args.timeout, detach=True)
    stack.write_state(also=running)
    stack.ports = {**{n: i["port"] for n, i in running.items()}, **stack.ports}
    if "gateway" in stack.ports:
        print(f"{'gateway':<16} {stack.gateway_url}  (OpenAPI docs at {stack.gateway_url}/docs, app at "
              f"{stack.gateway_url}/app/, dashboard at {stack.gateway_url}/dashboard/)  log {stack.log('gateway')}")
    for name in (n for n in PLATFORM if n != "gateway" and n in stack.ports):
        base = f"http://127.0.0.1:{stack.ports[name]}"
        print(f"{name:<16} {base}/health  {base}/ready  {base}/metrics  log {stack.log(name)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
