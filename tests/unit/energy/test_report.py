"""The two reports: files written, the seed's numbers beside ours, figures that pass the layout checks."""

from __future__ import annotations

import csv

import pytest

from simulator.energy.cli import report_main
from simulator.energy.metrics import SEED
from simulator.energy.params import CommunityParams
from simulator.energy.report import write_archetypes, write_higashi_fuji
from simulator.figures import PAGE_WIDTH_PX


def _rows(path):
    with path.open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _layout_ok(layout):
    """Checked by simulator.plot_layout on each figure as saved: at most the page's width, no text over another
    text, none straying over another panel, none cut off by the edge."""
    for name, fig in layout.items():
        assert fig["width_px"] <= PAGE_WIDTH_PX, name
        assert fig["overlaps"] == [], name
        assert fig["over_other_axes"] == [], name
        assert fig["cut_off"] == [], name


@pytest.fixture(scope="module")
def higashi(tmp_path_factory, climate):
    return write_higashi_fuji(tmp_path_factory.mktemp("hf"), CommunityParams(days=1, first_day=7), climate)


@pytest.fixture(scope="module")
def archetypes(tmp_path_factory, climate):
    return write_archetypes(tmp_path_factory.mktemp("arch"), CommunityParams(days=1, first_day=7), climate)


def test_higashi_fuji_report_puts_the_seed_beside_ours(higashi):
    names = {p.name for p in higashi.files}
    assert {"report.html", "headline.csv", "assumptions.csv", "result2_day.csv", "accounts.csv"} <= names
    rows = {r["key"]: r for r in _rows(higashi.out / "headline.csv")}
    for key, seed in SEED.items():
        assert float(rows[key]["seed"]) == seed
        assert rows[key]["ours"] not in ("", "n/a")
    page = (higashi.out / "report.html").read_text(encoding="utf-8")
    for key in ("ev_cost_reduction_pct", "avg_purchase_price", "avg_sale_price"):
        assert rows[key]["ours"] in page and rows[key]["seed"] in page
    assert "25.4" in page and "37.5" in page and "Why ours differs" in page and "18.85" in page
    assert "気象データ" in page and "data:image/png;base64," in page


def test_result2_day_csv_has_the_day(higashi):
    day = _rows(higashi.out / "result2_day.csv")
    assert len(day) == 48
    midday = next(r for r in day if "T12:00" in r["time"])
    assert float(midday["office_pv_surplus_kw"]) > 0
    assert sum(float(r["ev_charge_office_kw"]) for r in day) > 0


def test_assumptions_are_all_in_the_report(higashi):
    rows = _rows(higashi.out / "assumptions.csv")
    names = {r["parameter"] for r in rows}
    assert {"home_retail", "buyback", "wheeling_fee", "office_pv_kwp", "homes", "commute_km", "phev_battery_kwh",
            "seed"} <= names


def test_higashi_fuji_figures_read_cleanly(higashi):
    assert set(higashi.layout) == {"result2", "seed_comparison"}
    _layout_ok(higashi.layout)


def test_archetypes_report_names_the_bound(archetypes):
    rows = {r["platform"]: r for r in _rows(archetypes.out / "archetypes.csv")}
    assert set(rows) == {"orchestra", "modern_jazz", "hard_rock", "grid_only"}
    assert float(rows["orchestra"]["shortfall_vs_orchestra_yen"]) == 0
    for key in ("modern_jazz", "hard_rock", "grid_only"):
        assert float(rows[key]["shortfall_vs_orchestra_yen"]) >= 0
    assert float(rows["hard_rock"]["curtailed_kwh"]) > 0
    page = (archetypes.out / "report.html").read_text(encoding="utf-8")
    assert "Orchestra" in page and "オーケストラ" in page and "ハードロック" in page
    assert set(archetypes.layout) == {"archetypes"}
    _layout_ok(archetypes.layout)


def test_cli_refuses_an_unknown_parameter(tmp_path, capsys):
    bad = tmp_path / "p.json"
    bad.write_text('{"wheeling": 5}')
    assert report_main(["higashi-fuji", "--params", str(bad), "--out", str(tmp_path / "r")]) == 2
    assert "wheeling" in capsys.readouterr().err
