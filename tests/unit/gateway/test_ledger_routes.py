"""Retirements answer accepted or refused and why; proofs, anchors and keys over HTTP (over the Ledger fake)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient

from services.gateway.app import create_app
from services.gateway.publisher import BusPublisher
from services.gateway.routers import ledger as ledger_routes
from services.settlement.domain.signing import Signer
from services.settlement.memory import InMemoryLedger
from services.settlement.service import build_service
from services.settlement.views import LedgerReader
from shared.auth import issue_token
from shared.bus.inprocess import InProcessBus
from shared.contracts.energy import TradeMatched
from shared.settings import Settings

SETTINGS = Settings(token_secret="unit-secret", operator_token="op")
SLOT = datetime(2026, 11, 28, 4, 0, tzinfo=UTC)


def auth(pid: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {issue_token('unit-secret', pid)}"}


@pytest.fixture
def fake() -> InMemoryLedger:
    ledger = InMemoryLedger(Signer.from_bytes(bytes(range(32))))
    ledger.record_trades([TradeMatched(trade_id=f"t{i}", slot=SLOT, seller="pv-1", buyer=f"home-{i}", kwh="1.000",
                                       price="15.00", tier="B", wheeling_fee="10.00", renewable=True,
                                       seller_site="roof-1") for i in (1, 2)])
    return ledger


def client_for(ledger: InMemoryLedger, *, settle: bool = True) -> TestClient:
    """A gateway whose bus runs the settlement service (or nobody, to see a request still pending)."""
    bus = InProcessBus([build_service(ledger)] if settle else [])
    return TestClient(create_app(SETTINGS, BusPublisher(bus), LedgerReader(ledger)))


def test_retirement_is_answered_accepted_with_its_entry(fake) -> None:
    """The owner's retirement answers 200 with the entry that records it; the status route says the same."""
    client = client_for(fake)
    answer = client.post("/v1/ledger/certificates/REC-t1/retire", json={"target": "FY2026"}, headers=auth("home-1"))
    assert answer.status_code == 200, answer.text
    body = answer.json()
    entry = fake.entry("retirement", "REC-t1")
    assert (body["status"], body["target"], body["entry_seq"], body["entry_hash"]) == (
        "retired", "FY2026", entry.seq, entry.hash)
    status = client.get(body["status_url"], headers=auth("home-1")).json()
    assert (status["status"], status["entry_hash"]) == ("retired", entry.hash)


@pytest.mark.parametrize(("cert", "who"), [("REC-t2", "home-1"), ("REC-nope", "home-1")], ids=["others", "missing"])
def test_someone_elses_or_a_missing_certificate_is_404(fake, cert, who) -> None:
    """Someone else's certificate and a missing one get the same 404, and nothing is published or written."""
    client = client_for(fake)
    answer = client.post(f"/v1/ledger/certificates/{cert}/retire", json={"target": "FY2026"}, headers=auth(who))
    assert answer.status_code == 404 and answer.json()["message"] == f"no certificate {cert} held by {who}"
    assert client.get(f"/v1/ledger/certificates/{cert}/retirement", headers=auth(who)).status_code == 404
    assert len(list(fake.entries())) == 2


@pytest.mark.parametrize("target", ["FY2026", "FY2027"])
def test_retiring_twice_is_409_naming_the_first(fake, target) -> None:
    """A second retirement, for the same or another target, is refused with 409 and the target it holds."""
    client = client_for(fake)
    assert client.post("/v1/ledger/certificates/REC-t1/retire", json={"target": "FY2026"},
                       headers=auth("home-1")).status_code == 200
    again = client.post("/v1/ledger/certificates/REC-t1/retire", json={"target": target}, headers=auth("home-1"))
    assert again.status_code == 409
    assert "already retired against 'FY2026'" in again.json()["message"] and again.json()["target"] == "FY2026"
    assert len(list(fake.entries())) == 3


def test_a_request_not_yet_recorded_is_202_with_a_status_route(fake, monkeypatch) -> None:
    """When the settlement service has not answered in time, 202 says so and where to look."""
    monkeypatch.setattr(ledger_routes, "RETIREMENT_ANSWER_WITHIN_S", 0.1)
    client = client_for(fake, settle=False)
    answer = client.post("/v1/ledger/certificates/REC-t1/retire", json={"target": "FY2026"}, headers=auth("home-1"))
    assert answer.status_code == 202
    assert (answer.json()["status"], answer.json()["target"]) == ("requested", "FY2026")
    status = client.get(answer.json()["status_url"], headers=auth("home-1")).json()
    assert status["status"] == "not retired"
