"""docs/ledger-format.md's test vectors are what the platform writes, and the standalone verifier accepts them."""

from __future__ import annotations

import importlib.util
import json
import re
import sys
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from services.settlement.domain.chain import ChainHead, append, header_json
from services.settlement.domain.kinds.anchor import anchor_draft
from services.settlement.domain.kinds.trade import trade_draft
from services.settlement.domain.merkle import inclusion_proof, merkle_root, verify_inclusion
from services.settlement.domain.money import FeeSchedule
from services.settlement.domain.postings import TradeFact
from services.settlement.domain.signing import Signer, public_bytes
from services.settlement.export import export_lines

ROOT = Path(__file__).resolve().parents[3]
DOC = (ROOT / "docs" / "ledger-format.md").read_text(encoding="utf-8")
VECTORS = DOC[DOC.index("## 9. Test vectors"):]
AT = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
SLOT = datetime(2026, 11, 27, 0, 0, tzinfo=UTC)


def load_verifier():
    spec = importlib.util.spec_from_file_location("verify_ledger", ROOT / "tools" / "verify_ledger.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["verify_ledger"] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def blocks() -> list[str]:
    return re.findall(r"```(?:jsonl|json)?\n(.*?)```", VECTORS, flags=re.S)


def vector_ledger():
    """The vectors' ledger, built by the platform's own code."""
    signer = Signer.from_bytes(bytes(range(32)))
    facts = [TradeFact("t1", SLOT, "roof-3", "home-17", Decimal("1.500"), Decimal("25.33"), "B", Decimal("10.00"),
                       True, "ebina-roof-3"),
             TradeFact("t2", SLOT, "roof-3", "駅前-shop", Decimal("0.250"), Decimal("8.00"), "A", Decimal("0"),
                       False, "ebina-roof-3"),
             TradeFact("t3", SLOT, "grid", "home-17", Decimal("2.000"), Decimal("26.20"), "grid", Decimal("0"),
                       False)]
    fees = FeeSchedule(Decimal("0.50"))
    first, head = append(ChainHead("main"), [trade_draft(facts[0], fees, AT)], signer)
    rest, head = append(head, [trade_draft(f, fees, AT) for f in facts[1:]], signer)
    trades = first + rest
    anchor, _ = append(head, [anchor_draft(SLOT.isoformat(), merkle_root([e.hash for e in trades]), 3, AT)], signer)
    return signer, trades + anchor


def test_platform_reproduces_the_vectors_byte_for_byte() -> None:
    """Export lines, headers, hashes, signatures, root and proofs in the doc are what the code produces."""
    export, headers, values, anchor, proof = blocks()
    signer, entries = vector_ledger()
    assert list(export_lines(entries)) == export.splitlines()
    assert [header_json(e.chain, e.seq, e.kind, e.ref, e.slot, e.prev_hash) for e in entries] == headers.splitlines()
    v = json.loads(values)
    assert v["public_key"] == public_bytes(signer.public_key).hex() and v["key_id"] == signer.key_id
    hashes = [e.hash for e in entries[:3]]
    assert v["entry_hashes"] == [e.hash for e in entries] and v["merkle_root"] == merkle_root(hashes)
    for name, index in (("proof_t1", 0), ("proof_t3", 2)):
        assert v[name]["proof"] == inclusion_proof(hashes, index)
        assert verify_inclusion(hashes[index], index, 3, v[name]["proof"], v["merkle_root"])
    assert json.loads(anchor)["merkle_root"] == v["merkle_root"]
    assert json.loads(proof)["entry"]["hash"] == hashes[2]


def test_standalone_verifier_accepts_the_vectors(tmp_path) -> None:
    """tools/verify_ledger.py checks the vectors' export and proof with nothing of the platform's code."""
    verifier = load_verifier()
    export, _, values, anchor, proof = blocks()
    v = json.loads(values)
    ok, message = verifier.verify_export(export.splitlines(), verifier_keys(verifier, v["public_key"]),
                                         [json.loads(anchor)])
    assert ok, message
    assert verifier.verify_proof(json.loads(proof), [json.loads(anchor)])[0]
    assert verifier.root_of([bytes.fromhex(h) for h in v["leaf_hashes"]]).hex() == v["merkle_root"]


def test_verifier_imports_nothing_from_the_project() -> None:
    """The verifier's imports are the standard library and the Ed25519 package only."""
    source = (ROOT / "tools" / "verify_ledger.py").read_text()
    imported = set(re.findall(r"^(?:from|import) ([\w.]+)", source, flags=re.M))
    assert {m.split(".")[0] for m in imported} <= {"__future__", "argparse", "hashlib", "json", "sys",
                                                    "dataclasses", "decimal", "typing", "cryptography"}
    assert len(source.splitlines()) < 300


def verifier_keys(verifier, public_hex: str):
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    raw = bytes.fromhex(public_hex)
    return {verifier.key_id(raw): Ed25519PublicKey.from_public_bytes(raw)}
