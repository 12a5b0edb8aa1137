"""``citymatch demo --serve``: the whole platform in one process, live, for a newcomer to watch.

The simulated city of :mod:`services.demo_city` (every service core on one in-process bus, a SQLite ledger)
runs on a simulated clock, ``speed`` simulated minutes per real second, and the gateway serves the app
(``/app/``) and the dashboard (``/dashboard/``) over the same bus with its read models fed from it. No Java,
Kafka or PostgreSQL.

One place drives the bus: the city steps in a worker thread while it holds a lock (so the server's loop
keeps answering), and the gateway's publisher takes the same lock, so a request's event and the city's
minute never interleave. Reads (the ledger, the read models) need no lock.

Its folder (``.run/demo`` by default) keeps the demo accounts (``accounts.sqlite``), their generated
passwords (``demo-accounts.json``) and the secrets tokens and codes are signed with (``demo-secrets.json``),
both readable by the owner only; the ledger (``ledger.sqlite``, its public key and anchors file) starts
afresh on each run, as the city does.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import json
import logging
import os
import secrets
import signal
import sys
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import uvicorn

from services.demo_city import DemoCity, Totals
from services.gateway.publisher import BusPublisher
from shared.bus.inprocess import InProcessBus
from shared.contracts.base import Envelope, Payload, Topic

log = logging.getLogger("citymatch.demo")
LOOPBACK_NAMES = ("localhost",)
ACCESS_MINUTES = 12 * 60  # the demo's sign-ins (and its printed API token) last a working day
# username, role, what it is for
DEMO_ACCOUNTS = (("demo-operator", "operator", "dashboard, operator API"),
                 ("demo-planner", "planner", "planner API"),
                 ("demo-user", "app-user", "the app: offers, My car, trades, ledger proofs"))


@dataclass(frozen=True)
class ServeOptions:
    host: str | None            # None: not given, loopback
    port: int
    speed: float                # simulated minutes per real second
    seed: int
    day: date
    agents: int
    run_dir: Path
    report_every: float = 60.0  # seconds between the printed lines


def is_loopback(host: str) -> bool:
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def choose_host(given: str | None, env: dict[str, str] | os._Environ[str]) -> tuple[str | None, str]:
    """The address to bind, and what to say about it (``None``: refuse, the message says why)."""
    if given is None:
        configured = env.get("CITYMATCH_GATEWAY_HOST", "")
        if configured and not is_loopback(configured):
            return None, (f"citymatch demo --serve: refusing to bind {configured} from CITYMATCH_GATEWAY_HOST: the "
                          "demo binds the loopback address only, unless --host is given explicitly")
        return "127.0.0.1", "on the loopback address only; --host chooses another"
    if is_loopback(given):
        return given, f"on {given}, a loopback address"
    return given, (f"on {given} because --host says so. WARNING: that is reachable beyond this machine, and "
                   "anyone who reaches it can sign in with the demo accounts printed below")


# ---------------------------------------------------------------------------------------------- secrets, accounts
def _private_json(path: Path, make: Callable[[dict[str, Any]], dict[str, Any]]) -> dict[str, Any]:
    """Read ``path`` (JSON), let ``make`` complete it, write it back readable by the owner only."""
    old = json.loads(path.read_text()) if path.exists() else {}
    new = make(dict(old))
    if new != old or not path.exists():
        path.touch(mode=0o600, exist_ok=True)
        path.chmod(0o600)
        path.write_text(json.dumps(new, indent=2) + "\n")
    return new


def demo_secrets(run_dir: Path) -> dict[str, str]:
    """Token secret, operator token and redemption-code secret: generated once, kept in the demo's folder."""
    def fill(d: dict[str, Any]) -> dict[str, Any]:
        for name in ("token_secret", "operator_token", "code_secret"):
            d.setdefault(name, secrets.token_urlsafe(32))
        return d
    return _private_json(run_dir / "demo-secrets.json", fill)


def _new_password(username: str) -> str:
    from services.gateway.accounts.domain.rules import RuleBroken, check_password

    while True:
        candidate = secrets.token_urlsafe(15)
        try:
            return check_password(candidate, username)
        except RuleBroken:
            continue


def ensure_accounts(accounts: Any, run_dir: Path) -> dict[str, dict[str, str]]:
    """The demo accounts, created once (idempotent): each with the password kept in ``demo-accounts.json``,
    a new one set when that file no longer has it. Returns username -> role, password, subject."""
    out: dict[str, dict[str, str]] = {}

    def fill(stored: dict[str, Any]) -> dict[str, Any]:
        for username, role, _ in DEMO_ACCOUNTS:
            row = accounts.store.by_username(username)
            password = stored.get(username)
            if row is None:
                password = password or _new_password(username)
                made = accounts.create(username, password, role)
                subject = made.subject
            else:
                if password is None or not accounts.passwords.verify(row.password_hash, password):
                    password = _new_password(username)
                    accounts.store.set_password_hash(row.account_id, accounts.passwords.hash(password))
                subject = row.subject
            stored[username] = password
            out[username] = {"role": role, "password": password, "subject": subject}
        return stored

    _private_json(run_dir / "demo-accounts.json", fill)
    return out


# ---------------------------------------------------------------------------------------------- the bus, one driver
class CityPublisher(BusPublisher):
    """The gateway's publisher into the city's bus: waits while the city steps (one lock for both)."""

    def __init__(self, bus: InProcessBus, lock: asyncio.Lock) -> None:
        super().__init__(bus)
        self.lock = lock

    async def publish(self, topic: Topic[Any], payload: Payload, *, event_id: str | None = None) -> Envelope:
        async with self.lock:
            return await super().publish(topic, payload, event_id=event_id)


class Driver:
    """Steps the city ``speed`` minutes per real second, from the server's loop, and says what happened."""

    def __init__(self, city: DemoCity, lock: asyncio.Lock, speed: float, report_every: float,
                 say: Callable[[str], None]) -> None:
        self.city, self.lock, self.speed, self.report_every, self.say = city, lock, speed, report_every, say
        self.running = False
        self.failed: BaseException | None = None
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self.running = True
        self._task = asyncio.create_task(self._run(), name="demo-city")

    async def stop(self) -> None:
        """Let the minute being stepped finish (a thread cannot be cancelled), then stop."""
        self._stop.set()
        if self._task is not None:
            await self._task

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        started = last_line = loop.time()
        stepped = 0
        said = self.city.totals.copy()
        chunk = max(1, int(self.speed))  # at most a second's minutes at once: requests get the lock in between
        try:
            while not self._stop.is_set():
                due = int((loop.time() - started) * self.speed) - stepped
                if due > 3 * chunk:  # slower than --speed: drop what cannot be caught up, do not race
                    started += (due - chunk) / self.speed
                    due = chunk
                if due > 0:
                    n = min(due, chunk)
                    async with self.lock:
                        await asyncio.to_thread(self.city.run, n)
                    stepped += n
                if loop.time() - last_line >= self.report_every:
                    self.say(report_line(self.city, said))
                    said, last_line = self.city.totals.copy(), loop.time()
                wait = (stepped + 1) / self.speed - (loop.time() - started)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stop.wait(), max(wait, 0.0))
        except Exception as exc:  # the city stops; /ready says so and the server stays up to be looked at
            self.failed = exc
            log.exception("the demo city stopped")
            self.say(f"the simulated city stopped: {exc!r} (see the log above); /ready now answers 503")
        finally:
            self.running = False


def _yen(n: int) -> str:
    return f"{n:,} yen"


def report_line(city: DemoCity, since: Totals) -> str:
    """One line: the simulated time, what happened since ``since``, and the totals."""
    t = city.totals
    return (f"[{city.now:%Y-%m-%d %H:%M} JST] since the last line: {t.slots_cleared - since.slots_cleared} slots "
            f"cleared, {t.trades - since.trades} trades ({t.p2p_kwh - since.p2p_kwh:.1f} kWh peer-to-peer), "
            f"{t.offers - since.offers} offers ({t.accepted - since.accepted} accepted), "
            f"{t.redeemed - since.redeemed} codes redeemed ({_yen(t.rewards_yen - since.rewards_yen)}), "
            f"{t.anomalies - since.anomalies} anomalies | so far: {t.trades:,} trades, {t.offers:,} offers, "
            f"{t.redeemed:,} redeemed, {t.campaigns} campaigns")


# ---------------------------------------------------------------------------------------------- the server
def _fresh_ledger(run_dir: Path) -> tuple[Any, Path, str]:
    """A new SQLite ledger signed with a new key (its public half beside it) and its anchors file."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, PublicFormat

    from services.settlement.store import open_ledger

    path = run_dir / "ledger.sqlite"
    for stale in (path, path.with_name("ledger.sqlite-wal"), path.with_name("ledger.sqlite-shm"),
                  run_dir / "ledger-anchors.jsonl"):
        stale.unlink(missing_ok=True)
    key = Ed25519PrivateKey.generate()
    public = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw).hex()
    (run_dir / "ledger_public_key.txt").write_text(public + "\n")
    url = f"sqlite:///{path}"
    return open_ledger(url, signing_key=key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())), path, url


class QuietServer(uvicorn.Server):
    """uvicorn's server that SIGINT or SIGTERM stop gracefully with exit code 0 (uvicorn raises the signal
    again after its graceful stop, which would end the process with the signal's code)."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        originals = {sig: signal.signal(sig, self.handle_exit) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            yield
        finally:
            for sig, handler in originals.items():
                signal.signal(sig, handler)

    def port(self) -> int:
        """The port it listens on (the one the system chose for port 0)."""
        for server in getattr(self, "servers", []):
            for sock in server.sockets:
                return int(sock.getsockname()[1])
        return int(self.config.port)


def serve(options: ServeOptions, say: Callable[[str], None] = print) -> int:
    from services.bootstrap import charger_specs
    from services.gateway.accounts.service import Accounts
    from services.gateway.accounts.store import open_store
    from services.gateway.bootstrap import build_bus_gateway
    from services.settlement.anchor_file import AnchorFile
    from services.settlement.views import LedgerReader
    from shared.settings import Settings

    host, note = choose_host(options.host, os.environ)
    if host is None:
        sys.stderr.write(note + "\n")
        return 2
    if options.speed <= 0:
        sys.stderr.write("citymatch demo --serve: --speed must be more than 0 simulated minutes a second\n")
        return 2
    run_dir = options.run_dir
    if not run_dir.exists():  # accounts, secrets and the ledger's files: the owner's
        run_dir.parent.mkdir(parents=True, exist_ok=True)
        run_dir.mkdir(mode=0o700)
    keys = demo_secrets(run_dir)
    ledger, ledger_path, ledger_url = _fresh_ledger(run_dir)
    anchors = run_dir / "ledger-anchors.jsonl"
    settings = Settings(token_secret=keys["token_secret"], operator_token=keys["operator_token"],
                        database_url=ledger_url, data_dir=str(run_dir), ledger_anchors_file=str(anchors),
                        accounts_database_url=f"sqlite:///{run_dir / 'accounts.sqlite'}",
                        access_token_minutes=ACCESS_MINUTES, gateway_host=host, gateway_port=options.port)
    accounts = Accounts(open_store(settings.accounts_url()), settings.token_secret,
                        access_ttl=timedelta(minutes=settings.access_token_minutes),
                        refresh_ttl=timedelta(days=settings.refresh_token_days))
    say(f"citymatch demo --serve: starting the Ebina station area on {options.day.isoformat()} (seed "
        f"{options.seed}, {options.speed:g} simulated minutes a second); building the city takes a few seconds")
    try:
        with ThreadPoolExecutor(max_workers=1) as pool:  # passwords are hashed while the city is built
            made = pool.submit(ensure_accounts, accounts, run_dir)
            city = DemoCity(ledger, day=options.day, seed=options.seed, agents=options.agents,
                            code_secret=keys["code_secret"], anchor_file=AnchorFile(anchors))
            people = made.result()
    except KeyboardInterrupt:  # Ctrl-C while the city was being built: nothing runs yet
        ledger.close()
        accounts.close()
        say("stopped before the city started; the ledger is closed")
        return 0
    city.add_app_user(next(p["subject"] for p in people.values() if p["role"] == "app-user"))
    state: dict[str, Any] = {}

    def readiness() -> dict[str, bool]:
        try:
            ledger.ping()
            ledger_ok = True
        except Exception:  # a readiness probe reports, it does not raise
            log.exception("ledger not reachable")
            ledger_ok = False
        driver = state.get("driver")
        return {"ledger": ledger_ok, "city": bool(driver and driver.running)}

    async def main() -> None:
        lock = asyncio.Lock()
        app = build_bus_gateway(settings, city.bus, ledger=LedgerReader(ledger), accounts=accounts,
                                publisher=CityPublisher(city.bus, lock), readiness=readiness,
                                chargers=charger_specs())
        driver = state["driver"] = Driver(city, lock, options.speed, options.report_every, say)
        gateway_lifespan = app.router.lifespan_context

        @contextlib.asynccontextmanager
        async def lifespan(a: Any) -> AsyncIterator[None]:
            async with gateway_lifespan(a):  # the gateway closes the ledger and the accounts last
                driver.start()
                try:
                    yield
                finally:
                    await driver.stop()

        app.router.lifespan_context = lifespan
        config = uvicorn.Config(app, host=host, port=options.port, log_level="warning", lifespan="on",
                                timeout_graceful_shutdown=3)
        server = QuietServer(config)
        banner = asyncio.create_task(_banner(server, host, note, people, settings, say))
        try:
            await server.serve()
        finally:
            banner.cancel()

    try:
        asyncio.run(main())
    except SystemExit as exc:  # uvicorn could not listen (it said why above); the gateway closed what it had
        if exc.code in (0, None):
            raise
        city.close()
        sys.stderr.write(f"citymatch demo --serve: could not listen on {host}:{options.port}; --port chooses "
                         "another (0: any free one)\n")
        return 1
    city.close()
    t = city.totals
    say(f"stopped at {city.now:%Y-%m-%d %H:%M} JST (simulated): {t.trades:,} trades, {t.offers:,} offers, "
        f"{t.redeemed:,} codes redeemed; the ledger is closed: {ledger_path}")
    say(f"check it: .venv/bin/citymatch ledger verify --database-url {ledger_url} "
        f"--public-key $(cat {run_dir / 'ledger_public_key.txt'})")
    return 0


async def _banner(server: QuietServer, host: str, note: str, people: dict[str, dict[str, str]], settings: Any,
                  say: Callable[[str], None]) -> None:
    """Once the server listens: where to look and how to sign in."""
    from shared.auth import issue_token

    while not server.started:
        await asyncio.sleep(0.05)
    shown = f"[{host}]" if ":" in host else host
    base = f"http://{shown}:{server.port()}"
    operator = next(p for p in people.values() if p["role"] == "operator")
    token = issue_token(settings.token_secret, operator["subject"], role="operator",
                        ttl=timedelta(minutes=settings.access_token_minutes))
    lines = [f"citymatch demo --serve is running, {note}. Ctrl-C stops it.",
             f"  dashboard  {base}/dashboard/", f"  app        {base}/app/", f"  API docs   {base}/docs",
             "  demo accounts (sign in on the dashboard as operator or planner, on the app as the user):"]
    for (username, _, purpose) in DEMO_ACCOUNTS:
        p = people[username]
        lines.append(f"    username {username:<14} password {p['password']}  ({p['role']}: {purpose})")
    lines += [f"  an operator token for the API (curl, or Authorize at /docs; valid {ACCESS_MINUTES // 60} h):",
              f"    {token}",
              "  a line follows every minute or so with what the city did"]
    say("\n".join(lines))
