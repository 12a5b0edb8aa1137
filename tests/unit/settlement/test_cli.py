"""``citymatch ledger ...`` verifies, reconciles and prints statements, with exit codes to script on."""

import json
import sqlite3

import pytest

from services.settlement.cli import main
from services.settlement.domain.signing import Signer, public_bytes
from services.settlement.store import open_ledger

KEY = bytes(range(32))


def make_db(tmp_path, trade) -> str:
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    ledger = open_ledger(url, KEY)
    ledger.record_trades([trade(1), trade(2, buyer="someone")])
    ledger.anchor_pending()
    ledger.close()
    return url


def test_verify_ok_then_broken(tmp_path, trade, capsys) -> None:
    """verify exits 0 on an intact ledger and 1, naming the entry, once a row is edited."""
    url = make_db(tmp_path, trade)
    assert main(["ledger", "verify", "--database-url", url]) == 0
    assert "ledger OK: 3 entries" in capsys.readouterr().out
    assert main(["ledger", "verify", "--database-url", url, "--tip-only"]) == 0
    assert "1 signatures" in capsys.readouterr().out
    with sqlite3.connect(tmp_path / "ledger.db") as db:
        db.execute("UPDATE ledger_entries SET body = replace(body, '25.33', '2.53') WHERE seq = 2")
    assert main(["verify", "--database-url", url, "--json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["first_bad"]["seq"] == 2


def test_verify_with_a_pinned_key(tmp_path, trade, capsys) -> None:
    """verify against a key other than the signer's fails."""
    url = make_db(tmp_path, trade)
    other = public_bytes(Signer.from_bytes(bytes(32)).public_key).hex()
    mine = public_bytes(Signer.from_bytes(KEY).public_key).hex()
    assert main(["verify", "--database-url", url, "--public-key", other]) == 1
    assert "untrusted key" in capsys.readouterr().out
    assert main(["verify", "--database-url", url, "--public-key", mine]) == 0
    assert main(["verify", "--database-url", url, "--public-key", "not-hex"]) == 2


def test_reconcile_and_statement(tmp_path, trade, capsys) -> None:
    """reconcile exits 0; statement prints only the participant's lines and writes HTML."""
    url = make_db(tmp_path, trade)
    assert main(["reconcile", "--database-url", url]) == 0
    capsys.readouterr()
    html = tmp_path / "s.html"
    assert main(["statement", "--database-url", url, "--participant", "someone", "--json", "--html", str(html)]) == 0
    statement = json.loads(capsys.readouterr().out)
    assert [line["trade_id"] for line in statement["lines"]] == ["t2"]
    assert "Statement for someone" in html.read_text()


def test_missing_database_is_a_usage_error(monkeypatch) -> None:
    """Without --database-url, CITYMATCH_DATABASE_URL or DATABASE_URL the command refuses with exit status 2."""
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("CITYMATCH_DATABASE_URL", raising=False)
    assert main(["verify"]) == 2


def test_the_database_comes_from_the_platform_settings(tmp_path, trade, monkeypatch, capsys) -> None:
    """Without --database-url the ledger named by the platform's settings is read (CITYMATCH_DATABASE_URL, or its
    DATABASE_URL fallback); a bad setting is one line and exit status 2."""
    url = f"sqlite:///{tmp_path / 'env.db'}"
    ledger = open_ledger(url, KEY)
    ledger.record_trade(trade(1))
    ledger.close()
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv("CITYMATCH_DATABASE_URL", url)
    assert main(["verify", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["entries"] >= 1
    monkeypatch.setenv("CITYMATCH_ENVIRONMENT", "staging")
    assert main(["verify"]) == 2
    assert "CITYMATCH_ENVIRONMENT must be one of" in capsys.readouterr().err


def test_keygen_makes_a_usable_key_pair(tmp_path, trade, capsys) -> None:
    """keygen prints a signing key whose public half verifies a ledger it signed."""
    assert main(["ledger", "keygen"]) == 0
    pair = json.loads(capsys.readouterr().out)
    url = f"sqlite:///{tmp_path / 'k.db'}"
    ledger = open_ledger(url, bytes.fromhex(pair["signing_key"]))
    ledger.record_trade(trade(1))
    ledger.close()
    assert main(["verify", "--database-url", url, "--public-key", pair["public_key"]]) == 0


def test_verify_holds_the_ledger_to_published_anchors(tmp_path, trade, capsys) -> None:
    """Anchors saved from ledger.anchors pass on the real ledger and fail once a slot lost an entry."""
    url = f"sqlite:///{tmp_path / 'a.db'}"
    ledger = open_ledger(url, KEY)
    ledger.record_trades([trade(1), trade(2)])
    (anchor,) = ledger.anchor_pending()
    ledger.close()
    saved = tmp_path / "anchors.jsonl"
    saved.write_text(anchor.model_dump_json() + "\n")
    assert main(["verify", "--database-url", url, "--anchors", str(saved)]) == 0
    wrong = anchor.model_copy(update={"entries": 3})
    saved.write_text(wrong.model_dump_json() + "\n")
    assert main(["verify", "--database-url", url, "--anchors", str(saved)]) == 1
    assert "anchor covers 3 entries" in capsys.readouterr().out


def test_exported_anchors_round_trip_into_verify(tmp_path, trade, capsys) -> None:
    """`ledger anchors` prints what `verify --anchors` accepts, and the ledger matches its own anchors."""
    url = make_db(tmp_path, trade)
    capsys.readouterr()
    assert main(["anchors", "--database-url", url]) == 0
    saved = tmp_path / "anchors.jsonl"
    saved.write_text(capsys.readouterr().out)
    assert len(saved.read_text().splitlines()) == 1
    assert main(["verify", "--database-url", url, "--anchors", str(saved)]) == 0


READ_ONLY_COMMANDS = [["verify"], ["reconcile"], ["statement", "--participant", "p"], ["totals"], ["anchors"],
                      ["export"]]


@pytest.mark.parametrize("command", READ_ONLY_COMMANDS, ids=lambda c: c[0])
def test_missing_ledger_is_one_line_and_nothing_is_created(tmp_path, capsys, command) -> None:
    """Every read-only command on a missing SQLite file says so in one line, exits 3 and creates nothing."""
    url = f"sqlite:///{tmp_path / 'missing.sqlite'}"
    assert main(["ledger", *command, "--database-url", url]) == 3
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "missing.sqlite does not exist" in err
    assert not (tmp_path / "missing.sqlite").exists()


def test_unreachable_database_is_one_line(capsys) -> None:
    """A PostgreSQL URL nobody answers on is a one-line error and exit 3, not a traceback."""
    url = "postgresql+psycopg://nobody@127.0.0.1:9/none"
    assert main(["verify", "--database-url", url]) == 3
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("citymatch ledger verify: ledger at")


def test_read_only_commands_never_write(tmp_path, trade, capsys) -> None:
    """verify, reconcile, statement, totals, anchors and export leave the database file byte for byte as it was."""
    url = make_db(tmp_path, trade)
    path = tmp_path / "ledger.db"
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    before = path.read_bytes()
    for command in READ_ONLY_COMMANDS:
        assert main([*command, "--database-url", url]) == 0, command
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        assert db.execute("SELECT count(*) FROM ledger_keys").fetchone() == (1,)
    assert path.read_bytes() == before
    capsys.readouterr()


def test_export_is_one_entry_per_line(tmp_path, trade, capsys) -> None:
    """export prints every entry as one JSON object with the exact body bytes that were hashed."""
    url = make_db(tmp_path, trade)
    out = tmp_path / "ledger.jsonl"
    assert main(["export", "--database-url", url, "-o", str(out)]) == 0
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [(r["seq"], r["kind"]) for r in rows] == [(1, "trade"), (2, "trade"), (3, "anchor")]
    assert rows[-1]["signature"] and isinstance(rows[0]["body"], str)
