"""tools/verify_ledger.py on the demo's ledger: it passes as exported, and names the entry for every tampering."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from services.settlement.domain.signing import Signer

ROOT = Path(__file__).resolve().parents[3]
VERIFIER = ROOT / "tools" / "verify_ledger.py"
OTHER = Signer.from_bytes(bytes(32))


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Path:
    """One energy day of the demo (market + settlement on the in-process bus), with its published files."""
    from services.demo import run_energy_day

    out = tmp_path_factory.mktemp("demo")
    run_energy_day(out, date(2026, 5, 20), 0.8)
    return out


def run(*args: str) -> tuple[int, str]:
    """The verifier as an outsider runs it: its own process, nothing but its file on the path."""
    done = subprocess.run([sys.executable, "-I", str(VERIFIER), *args], capture_output=True, text=True,
                          cwd="/", timeout=120)
    return done.returncode, (done.stdout + done.stderr).strip()


def lines(demo: Path) -> list[dict]:
    return [json.loads(line) for line in (demo / "ledger.jsonl").read_text().splitlines()]


def write(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
    return path


def check(demo: Path, export: Path, anchors: Path | None = None, key: str | None = None) -> tuple[int, str]:
    key = key or (demo / "ledger_public_key.txt").read_text().strip()
    return run("ledger", str(export), "--public-key", key, "--anchors", str(anchors or demo / "ledger-anchors.jsonl"))


def test_the_demo_ledger_verifies_standalone(demo) -> None:
    """The export, the demo's public key and its public anchors file check out, and so does a proof."""
    code, out = check(demo, demo / "ledger.jsonl")
    assert code == 0, out
    assert out.startswith("OK:") and " 0 saved anchors" not in out
    code, out = run("proof", str(demo / "proof.json"), "--anchors", str(demo / "ledger-anchors.jsonl"))
    assert code == 0, out


def _first(rows: list[dict], kind: str) -> int:
    return next(i for i, r in enumerate(rows) if r["kind"] == kind)


def _amount_changed(rows):
    i = _first(rows, "trade")
    body = json.loads(rows[i]["body"])
    body["postings"][0][2] -= 100  # the buyer pays a yen less
    rows[i]["body"] = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return rows, rows[i]["seq"], "content does not match its hash"


def _deleted(rows):
    i = _first(rows, "trade") + 3
    seq = rows[i]["seq"]
    del rows[i]
    return rows, seq + 1, "expected seq"


def _swapped(rows):
    i = _first(rows, "trade") + 5
    rows[i], rows[i + 1] = rows[i + 1], rows[i]
    return rows, rows[i]["seq"], "expected seq"


def _foreign_signature(rows):
    i = _first(rows, "trade") + 2
    rows[i]["signature"] = OTHER.sign(rows[i]["hash"])
    rows[i]["key_id"] = OTHER.key_id
    return rows, rows[i]["seq"], "not one you trust"


def _anchor_rewritten(rows):
    i = _first(rows, "anchor")
    body = json.loads(rows[i]["body"])
    body["merkle_root"] = "ab" * 32
    rows[i]["body"] = json.dumps(body, sort_keys=True, separators=(",", ":"))
    return rows, rows[i]["seq"], "content does not match its hash"


@pytest.mark.parametrize("tamper", [_amount_changed, _deleted, _swapped, _foreign_signature, _anchor_rewritten],
                         ids=["amount changed", "entry deleted", "two swapped", "another key", "anchor rewritten"])
def test_every_tampering_is_named(demo, tmp_path, tamper) -> None:
    """Each tampered copy fails, and the message names the entry (chain and seq) where it broke."""
    rows, seq, reason = tamper(lines(demo))
    code, out = check(demo, write(tmp_path / "tampered.jsonl", rows))
    assert code == 1, out
    assert f"entry chain=main seq={seq} " in out and reason in out, out


def test_a_rewritten_and_resigned_history_fails_against_saved_anchors(demo, tmp_path) -> None:
    """Whoever holds the key can re-sign a rewrite, but not reproduce the roots outsiders saved."""
    verifier = _load()
    rows = lines(demo)
    i = _first(rows, "trade")
    body = json.loads(rows[i]["body"])
    body["at"] = "2026-05-20T00:00:00+00:00"  # any change; the chain is then rebuilt and re-signed
    rows[i]["body"] = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    prev = rows[i]["prev_hash"]
    for r in rows[i:]:
        r["prev_hash"] = prev
        r["hash"] = prev = verifier.entry_hash(r)
        if r["signature"]:
            r["signature"], r["key_id"] = OTHER.sign(r["hash"]), OTHER.key_id
        if r["kind"] == "anchor":  # the rewriter recomputes its own anchors too
            leaves = [x["hash"] for x in rows[:rows.index(r)] if x["slot"] == r["slot"] and x["kind"] != "anchor"]
            anchor = json.loads(r["body"])
            anchor["merkle_root"] = verifier.root_of([verifier.leaf(h) for h in leaves]).hex()
            r["body"] = json.dumps(anchor, sort_keys=True, separators=(",", ":"))
            r["hash"] = prev = verifier.entry_hash(r)
            if r["signature"]:
                r["signature"] = OTHER.sign(r["hash"])
    from services.settlement.domain.signing import public_bytes

    code, out = check(demo, write(tmp_path / "rewritten.jsonl", rows), key=public_bytes(OTHER.public_key).hex())
    assert code == 1 and out.startswith("BAD anchor chain=main slot="), out
    code, out = run("ledger", str(tmp_path / "rewritten.jsonl"), "--public-key", public_bytes(OTHER.public_key).hex())
    assert code == 0, out  # without the saved anchors the rewrite would pass: that is why they leave the platform


def test_a_tampered_saved_anchor_or_proof_fails(demo, tmp_path) -> None:
    """A proof checked against a different saved root, or with its entry edited, is refused."""
    anchors = [json.loads(x) for x in (demo / "ledger-anchors.jsonl").read_text().splitlines()]
    proof = json.loads((demo / "proof.json").read_text())
    for a in anchors:
        if (a["slot"], a["entries"]) == (proof["entry"]["slot"], proof["size"]):
            a["merkle_root"] = "cd" * 32
    code, out = run("proof", str(demo / "proof.json"), "--anchors", str(write(tmp_path / "a.jsonl", anchors)))
    assert code == 1 and "another root" in out, out
    proof["entry"]["body"] = proof["entry"]["body"].replace('"kwh":"', '"kwh":"1')
    (tmp_path / "p.json").write_text(json.dumps(proof))
    code, out = run("proof", str(tmp_path / "p.json"), "--anchors", str(demo / "ledger-anchors.jsonl"))
    assert code == 1 and "content does not match its hash" in out, out


def _load():
    spec = importlib.util.spec_from_file_location("verify_ledger", VERIFIER)
    module = importlib.util.module_from_spec(spec)
    sys.modules["verify_ledger"] = module
    spec.loader.exec_module(module)
    return module
