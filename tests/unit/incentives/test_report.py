"""The campaign report: a campaign's day against the same day without it, as HTML and CSV."""

from __future__ import annotations

import csv
from pathlib import Path

from simulator.cli import sim_main


def test_campaign_report_is_written_and_adds_up(tmp_path: Path) -> None:
    """citymatch sim campaign writes the report; paid stays within the guard; the tables agree."""
    assert sim_main(["campaign", "--agents", "6000", "--budget", "5000", "--prior-factor", "2",
                     "--out", str(tmp_path)]) == 0
    html = (tmp_path / "report.html").read_text(encoding="utf-8")
    for heading in ("Load at the chokepoint", "Fairness by segment", "Acceptance estimates", "Where this stands",
                    "キャンペーン", "Tozai", "INSINC", "99.7"):
        assert heading in html
    summary = {r["metric"]: r["value"] for r in csv.DictReader((tmp_path / "summary.csv").open())}
    assert int(summary["yen_spent"]) <= int(summary["guard_yen"])
    assert int(summary["offers_accepted"]) <= int(summary["offers_sent"])
    segments = list(csv.DictReader((tmp_path / "segments.csv").open()))
    assert sum(int(r["offers"]) for r in segments) == int(summary["offers_sent"])
    assert sum(int(r["rewards_yen"]) for r in segments) == int(summary["yen_spent"])
    load = list(csv.DictReader((tmp_path / "load.csv").open()))
    assert len(load) == 1440
    rounds = list(csv.DictReader((tmp_path / "rounds.csv").open()))
    assert sum(int(r["paid_yen"]) for r in rounds) == int(summary["yen_spent"])
