"""`citymatch accounts`: create an operator from a script, refuse a device without its participant, list."""

from __future__ import annotations

import io

from services.cli import main


def test_create_list_and_refuse(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("CITYMATCH_DATABASE_URL", f"sqlite:///{tmp_path / 'ledger.sqlite'}")
    monkeypatch.setattr("sys.stdin", io.StringIO("ops-Pass-2026x\n"))
    assert main(["accounts", "create", "--username", "Kenji", "--role", "operator", "--password-stdin"]) == 0
    account_id, username, role, _ = capsys.readouterr().out.strip().split("\t")
    assert (username, role) == ("kenji", "operator") and account_id.startswith("o-")
    monkeypatch.setattr("sys.stdin", io.StringIO("ops-Pass-2026x\n"))
    assert main(["accounts", "create", "--username", "meter-1", "--role", "device", "--password-stdin"]) == 2
    assert "--participant" in capsys.readouterr().err
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    assert main(["accounts", "create", "--username", "aiko", "--role", "planner", "--password-stdin"]) == 2
    assert "--password: must be at least 10" in capsys.readouterr().err
    assert main(["accounts", "list"]) == 0
    assert capsys.readouterr().out.count("\n") == 1
    assert (tmp_path / "accounts.sqlite").exists()  # beside the ledger's file
    assert main(["accounts", "disable", account_id]) == 0
    assert main(["accounts", "disable", "o-nobody"]) == 1
