"""``citymatch demo --serve`` as a newcomer runs it: a subprocess on a port the system chooses prints the demo
accounts and URLs, answers /ready, lets the demo operator sign in, and its campaign counters and ledger slots
grow while the simulated city runs; Ctrl-C (SIGINT) stops it with exit code 0 and the ledger closed. It binds
the loopback address unless --host is given; its accounts are made once."""

from __future__ import annotations

import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from services.demo import main as demo_main
from services.demo_serve import choose_host, demo_secrets, ensure_accounts
from services.gateway.accounts.passwords import Passwords, cheap_hasher
from services.gateway.accounts.service import Accounts
from services.gateway.accounts.store import open_store
from shared.settings import REPO_ROOT

STARTED_S = 60   # the city is built (crowd simulations, baselines) and the server listens
GROWS_S = 20     # at 60 simulated minutes a second a slot clears twice a second, a campaign round 12 times


class Output:
    """The subprocess's lines, read on a thread so a wait never blocks on the pipe."""

    def __init__(self, proc: subprocess.Popen[str]) -> None:
        self.lines: list[str] = []
        self._queue: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._read, args=(proc,), daemon=True).start()

    def _read(self, proc: subprocess.Popen[str]) -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            self._queue.put(line.rstrip("\n"))
        self._queue.put(None)

    def wait_for(self, pattern: str, timeout_s: float) -> re.Match[str]:
        deadline = time.monotonic() + timeout_s
        for line in self.lines:
            if found := re.search(pattern, line):
                return found
        while (left := deadline - time.monotonic()) > 0:
            try:
                line = self._queue.get(timeout=left)
            except queue.Empty:
                break
            if line is None:
                break
            self.lines.append(line)
            if found := re.search(pattern, line):
                return found
        raise AssertionError(f"no line matching {pattern!r} within {timeout_s} s; output:\n" + "\n".join(self.lines))


def wait_until(check: Callable[[], Any], timeout_s: float, what: str) -> Any:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if value := check():
                return value
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"not within {timeout_s} s: {what}")


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], Output, str]]:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    env.pop("CITYMATCH_GATEWAY_HOST", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "services.cli", "demo", "--serve", "--port", "0", "--speed", "60", "--seed", "3",
         "--agents", "1000", "--run-dir", str(tmp_path / "demo")],
        cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    output = Output(proc)
    try:
        base = output.wait_for(r"dashboard +(http://127\.0\.0\.1:\d+)/dashboard/", STARTED_S).group(1)
        yield proc, output, base
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)


def test_the_platform_serves_live_and_stops_cleanly(server) -> None:
    proc, output, base = server
    password = output.wait_for(r"username demo-operator +password (\S+)", 5).group(1)
    assert output.wait_for(r"app +(\S+)", 5).group(1) == f"{base}/app/"
    wait_until(lambda: httpx.get(f"{base}/ready", timeout=2).status_code == 200, 10, "/ready answers 200")
    answer = httpx.post(f"{base}/v1/auth/token", data={"username": "demo-operator", "password": password})
    assert answer.status_code == 200, answer.text
    headers = {"Authorization": f"Bearer {answer.json()['access_token']}"}

    def sent() -> int:
        return sum(c["offers"]["sent"] for c in httpx.get(f"{base}/v1/operator/campaigns", headers=headers,
                                                          timeout=5).json())

    def slots() -> int:
        return len(httpx.get(f"{base}/v1/operator/ledger/slots", headers=headers, timeout=5).json())

    first_sent = wait_until(sent, GROWS_S, "the demo campaign's first offers")
    first_slots = wait_until(slots, GROWS_S, "the first settled slot on the ledger")
    wait_until(lambda: sent() > first_sent, GROWS_S, "more offers")
    wait_until(lambda: slots() > first_slots, GROWS_S, "more settled slots")
    campaign = httpx.get(f"{base}/v1/operator/campaigns", headers=headers, timeout=5).json()[0]
    assert campaign["campaign_id"].startswith("demo-gates-") and campaign["ledger"]["funded_yen"] > 0

    proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=20) == 0
    output.wait_for(r"the ledger is closed", 5)


def test_help_documents_serve(capsys) -> None:
    with pytest.raises(SystemExit) as done:
        demo_main(["--help"])
    assert done.value.code == 0
    said = capsys.readouterr().out
    for option in ("--serve", "--host", "--port", "--speed", "--seed"):
        assert option in said


def test_it_refuses_a_non_loopback_host_unless_given_explicitly(tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.setenv("CITYMATCH_GATEWAY_HOST", "0.0.0.0")
    assert demo_main(["--serve", "--run-dir", str(tmp_path / "demo")]) == 2
    assert "refusing to bind 0.0.0.0" in capsys.readouterr().err
    assert not (tmp_path / "demo").exists()  # nothing made, nothing started
    assert choose_host(None, {})[0] == "127.0.0.1"
    assert choose_host("::1", {})[0] == "::1"
    host, note = choose_host("0.0.0.0", {"CITYMATCH_GATEWAY_HOST": "0.0.0.0"})
    assert host == "0.0.0.0" and "WARNING" in note


def test_demo_accounts_are_made_once_and_their_passwords_kept(tmp_path: Path) -> None:
    secrets = demo_secrets(tmp_path)
    assert demo_secrets(tmp_path) == secrets and (tmp_path / "demo-secrets.json").stat().st_mode & 0o077 == 0
    accounts = Accounts(open_store(f"sqlite:///{tmp_path / 'accounts.sqlite'}"), secrets["token_secret"],
                        passwords=Passwords(cheap_hasher()))
    first = ensure_accounts(accounts, tmp_path)
    assert {p["role"] for p in first.values()} == {"operator", "planner", "app-user"}
    assert ensure_accounts(accounts, tmp_path) == first and len(accounts.all()) == 3
    (tmp_path / "demo-accounts.json").unlink()  # the passwords lost: new ones, the same accounts
    again = ensure_accounts(accounts, tmp_path)
    assert len(accounts.all()) == 3
    for username, p in again.items():
        assert p["subject"] == first[username]["subject"] and p["password"] != first[username]["password"]
        assert accounts.sign_in(username, p["password"]).account.username == username
    accounts.close()
