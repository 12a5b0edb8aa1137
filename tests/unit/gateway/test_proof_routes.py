"""Inclusion proofs over HTTP, scoped to the caller; the public anchors file and keys (over the Ledger fake)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient

from services.gateway.app import create_app
from services.gateway.publisher import BusPublisher
from services.settlement.anchor_file import AnchorFile
from services.settlement.domain.merkle import verify_inclusion
from services.settlement.domain.signing import Signer, public_bytes
from services.settlement.memory import InMemoryLedger
from services.settlement.service import build_service
from services.settlement.views import LedgerReader
from shared.auth import issue_token
from shared.bus.inprocess import InProcessBus
from shared.contracts.energy import TradeMatched
from shared.settings import Settings

SLOT = datetime(2026, 11, 28, 4, 0, tzinfo=UTC)
SIGNER = Signer.from_bytes(bytes(range(32)))


def auth(pid: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {issue_token('unit-secret', pid)}"}


@pytest.fixture
def setup(tmp_path):
    settings = Settings(token_secret="unit-secret", operator_token="op",
                        ledger_anchors_file=str(tmp_path / "anchors.jsonl"))
    ledger = InMemoryLedger(SIGNER)
    ledger.record_trades([TradeMatched(trade_id=f"t{i}", slot=SLOT, seller="pv-1", buyer=f"home-{i}", kwh="1.000",
                                       price="15.00", tier="B", renewable=i == 1, seller_site="roof-1")
                          for i in (1, 2, 3)])
    service = build_service(ledger, anchor_file=AnchorFile(tmp_path / "anchors.jsonl"))
    bus = InProcessBus([service])
    client = TestClient(create_app(settings, BusPublisher(bus), LedgerReader(ledger)))
    return client, ledger, service


def anchor_now(service) -> None:
    (timer,) = service.timers
    list(timer.tick())


def test_a_trade_proof_checks_against_the_public_anchor(setup) -> None:
    """The buyer's proof recomputes to the root in the public anchors file; the seller gets it too."""
    client, ledger, service = setup
    assert client.get("/v1/ledger/proofs/trades/t2", headers=auth("home-2")).status_code == 409  # not anchored
    anchor_now(service)
    proof = client.get("/v1/ledger/proofs/trades/t2", headers=auth("home-2")).json()
    (published,) = client.get("/v1/ledger/anchors.jsonl").text.splitlines()
    root = json.loads(published)["merkle_root"]
    assert proof["verified"] and proof["verified_against"] == root == proof["anchor"]["merkle_root"]
    entry = ledger.entry("trade", "t2")
    assert proof["entry"]["hash"] == entry.hash == entry.recomputed_hash()
    assert verify_inclusion(entry.hash, proof["index"], proof["size"], proof["proof"], root)
    assert client.get("/v1/ledger/proofs/trades/t2", headers=auth("pv-1")).status_code == 200


@pytest.mark.parametrize("path", ["/v1/ledger/proofs/trades/t2", "/v1/ledger/proofs/trades/nope",
                                  "/v1/ledger/proofs/certificates/REC-t1", "/v1/ledger/proofs/entries/trade/t2",
                                  "/v1/ledger/proofs/entries/no-such-kind/x"])
def test_someone_elses_or_missing_proofs_are_404(setup, path) -> None:
    client, _, service = setup
    anchor_now(service)
    assert client.get(path, headers=auth("home-3")).status_code == 404
    assert client.get(path).status_code == 401


def test_a_retired_certificates_proof_shows_its_target(setup) -> None:
    """Issue and retirement each come with a proof; the retirement names the target it counts toward."""
    client, _, service = setup
    anchor_now(service)
    before = client.get("/v1/ledger/proofs/certificates/REC-t1", headers=auth("home-1")).json()
    assert before["issued"]["status"] == "anchored" and before["retired"] is None
    assert client.post("/v1/ledger/certificates/REC-t1/retire", json={"target": "FY2026"},
                       headers=auth("home-1")).status_code == 200
    pending = client.get("/v1/ledger/proofs/certificates/REC-t1", headers=auth("home-1")).json()
    assert pending["retired"]["target"] == "FY2026" and pending["retired"]["status"] == "not yet anchored"
    anchor_now(service)
    after = client.get("/v1/ledger/proofs/certificates/REC-t1", headers=auth("home-1")).json()
    retired = after["retired"]
    assert retired["status"] == "anchored" and retired["proof"]["verified"]
    assert '"target":"FY2026"' in retired["proof"]["entry"]["body"]
    assert after["certificate"]["retired_target"] == "FY2026"


def test_keys_and_anchors_are_public(setup) -> None:
    """Anyone reads the signing keys and the anchors file, without a token; the file is JSON lines."""
    client, _, service = setup
    assert client.get("/v1/ledger/anchors.jsonl").text == ""
    anchor_now(service)
    response = client.get("/v1/ledger/anchors.jsonl")
    assert response.headers["content-type"].startswith("application/jsonl") and response.text.count("\n") == 1
    assert client.get("/v1/ledger/keys").json() == [
        {"key_id": SIGNER.key_id, "public_key": public_bytes(SIGNER.public_key).hex()}]
