"""``citymatch report co-owned`` on a small group (3 members, 5 days): the table per member, deterministic for a
seed, bills that sum to the month's costs less the fleet's pay, and the split verified as a ledger entry."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from services.cli import main
from simulator.coowned.config import load_config
from simulator.coowned.report import build, table


def small(tmp_path: Path, **fields: object) -> Path:
    path = tmp_path / "group.json"
    path.write_text(json.dumps({"member_count": 3, "days": 5, **fields}), encoding="utf-8")
    return path


def test_the_command_prints_a_row_per_member_and_writes_its_files(tmp_path: Path,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    assert main(["report", "co-owned", "--config", str(small(tmp_path)), "--out", str(out), "--plot"]) == 0
    text = capsys.readouterr().out
    lines = text.splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("member"))
    assert lines[header].split()[:6] == ["member", "share", "hours", "km", "kWh", "PV"]
    assert [line.split()[0] for line in lines[header + 2:header + 5]] == ["aoki", "baba", "chiba"]
    assert "verify ok" in text and "cost_share ebina-kashiwa-ev:2026-11-01+5d" in text
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert [m["member"] for m in summary["members"]] == ["aoki", "baba", "chiba"]
    assert summary["bills_sen"] == (summary["instalment_sen"] + summary["insurance_sen"] + summary["energy_sen"]
                                    - summary["revenue_sen"])
    assert sum(m["bill_sen"] for m in summary["members"]) == summary["bills_sen"]
    assert (out / "members.csv").read_text(encoding="utf-8").count("\n") == 4
    assert (out / "bills.png").stat().st_size > 1000
    event = json.loads((out / "cost_share_event.json").read_text(encoding="utf-8"))
    assert event["credit_sen"] == summary["revenue_sen"] and len(event["members"]) == 3


def test_the_same_seed_gives_the_same_bills_and_another_seed_other_ones(tmp_path: Path) -> None:
    config = load_config(small(tmp_path))
    first, again = build(config), build(config)
    assert table(first) == table(again) and first.entry.hash == again.entry.hash
    other = build(load_config(small(tmp_path), seed=7))
    assert [m.bill_sen for m in other.split.members] != [m.bill_sen for m in first.split.members]


def test_prorated_costs_and_pv_from_the_shipped_weather(tmp_path: Path) -> None:
    """Five days of November owe 5/30 of each car's month; the carport's PV charges most of the kWh."""
    report = build(load_config(small(tmp_path)))
    assert report.split.instalment_sen == (68_500 + 42_300) * 100 * 5 // 30
    charged = sum(c.wh for c in report.month.charges)
    assert charged > 0 and sum(c.pv_wh for c in report.month.charges) > charged / 2
    assert report.month.pv_wh > 0


def test_a_bad_config_is_one_line_and_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", "co-owned", "--config", str(small(tmp_path, colour="red"))]) == 2
    assert "unknown config fields: colour" in capsys.readouterr().err


def test_the_bills_figure_speaks_both_languages_and_no_text_collides(tmp_path: Path) -> None:
    from simulator.coowned.figure import bills_figure
    from simulator.fonts import use_japanese
    from simulator.plot_layout import overlapping_texts, texts_outside_figure

    report = build(load_config(small(tmp_path)))
    fig = bills_figure(report.split, "ebina-kashiwa-ev 2026-11")
    fig.savefig(tmp_path / "bills.png", dpi=120)
    legend = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    if use_japanese():
        assert any("割賦" in t for t in legend) and "共同所有" in fig.axes[0].get_title()
    assert any(t.startswith("instalment") for t in legend)
    assert overlapping_texts(fig) == [] and texts_outside_figure(fig) == []
