"""Errors keep the connection: after a 401, a 422 and even an unexpected failure, the same keep-alive
connection serves the next request (a real uvicorn server on 127.0.0.1)."""

from __future__ import annotations

import http.client
import json
import threading
import time
from collections.abc import Iterator

import pytest
import uvicorn

from services.gateway.app import create_app
from services.gateway.publisher import BusPublisher
from services.localstack import free_port
from shared.bus.inprocess import InProcessBus

from .conftest import SETTINGS, auth


class BrokenLedger:
    """A ledger view whose reads fail in a way no handler expects."""

    def participant(self, participant):
        raise RuntimeError("disk on fire")

    def operator(self):
        raise RuntimeError("disk on fire")

    def close(self):
        return None


@pytest.fixture(scope="module")
def server() -> Iterator[int]:
    app = create_app(SETTINGS, BusPublisher(InProcessBus()), BrokenLedger())
    port = free_port()
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not srv.started and time.monotonic() < deadline:
        time.sleep(0.05)
    yield port
    srv.should_exit = True
    thread.join(timeout=10)


def _ask(conn: http.client.HTTPConnection, method: str, path: str, body: object = None,
         headers: dict[str, str] | None = None) -> tuple[int, dict, str | None]:
    payload = None if body is None else json.dumps(body)
    conn.request(method, path, body=payload, headers={"content-type": "application/json", **(headers or {})})
    response = conn.getresponse()
    data = json.loads(response.read() or b"null")
    return response.status, data, response.getheader("connection")


def test_one_connection_survives_every_kind_of_error(server):
    """401, 422 and an internal failure (a JSON 500) each leave the connection open for the next request."""
    conn = http.client.HTTPConnection("127.0.0.1", server, timeout=10)
    conn.connect()
    sock = conn.sock
    answers = [
        _ask(conn, "GET", "/v1/energy/trades"),
        _ask(conn, "POST", "/v1/energy/orders", {"side": "hold"}, auth("home-1")),
        _ask(conn, "GET", "/v1/energy/trades", headers=auth("home-1")),
        _ask(conn, "GET", "/health"),
    ]
    assert [a[0] for a in answers] == [401, 422, 500, 200]
    assert answers[2][1]["message"].startswith("internal error (reference ")
    assert all(a[2] != "close" for a in answers)
    assert conn.sock is sock  # the same socket carried all four
    conn.close()
