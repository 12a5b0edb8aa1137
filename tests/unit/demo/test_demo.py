import json

from services.demo import main


def test_demo_runs_end_to_end_and_its_ledger_verifies(tmp_path):
    """The embedded demo clears a day, settles it on a ledger that verifies and reconciles, and writes its outputs."""
    assert main(["--out", str(tmp_path), "--agents", "2000"]) == 0
    summary = json.loads((tmp_path / "summary.json").read_text())
    energy = summary["energy"]
    assert energy["slots"] == 48
    assert energy["trades"] > 0 and energy["ledger_verified"] and energy["ledger_reconciled"]
    assert energy["dead_letters"] == 0
    assert summary["crowd"]["agents"] > 0
    for name in ("trades.csv", "market.png", "ledger.sqlite", "sim/report.html"):
        assert (tmp_path / name).stat().st_size > 0, name


def test_demo_is_deterministic(tmp_path):
    """Two runs of the same demo give the same market and crowd numbers."""
    runs = []
    for i in range(2):
        out = tmp_path / str(i)
        assert main(["--out", str(out), "--agents", "1000"]) == 0
        summary = json.loads((out / "summary.json").read_text())
        summary["energy"].pop("seconds")
        summary["crowd"].pop("wall_s", None)
        runs.append(summary)
    assert runs[0] == runs[1]
