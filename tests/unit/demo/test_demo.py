import csv
import json
from datetime import datetime
from decimal import Decimal

from services.demo import COMMUNITY, _plot_market, main
from services.market.adapters.community_yaml import load_community
from shared.contracts.energy import TradeMatched
from simulator.plot_layout import overlapping_texts, texts_outside_figure


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


def test_demo_summary_says_what_the_battery_did(tmp_path, capsys):
    """The summary names who sold the on-site (tier A) energy and says plainly what the station battery did with
    its charge, including whether any was left for the evening peak; the market plot has no empty legend entry."""
    assert main(["--out", str(tmp_path), "--agents", "1000"]) == 0
    energy = json.loads((tmp_path / "summary.json").read_text())["energy"]
    battery = energy["storage"]["station-battery"]
    assert sum(Decimal(v) for v in energy["tier_a_by_seller"].values()) == Decimal(energy["tier_a_kwh"])
    assert Decimal(battery["soc_end_pct"]) == (Decimal(battery["soc_start_pct"]) + (
        Decimal(battery["bought_kwh"]) - Decimal(battery["sold_kwh"])) / Decimal(battery["capacity_kwh"]) * 100
    ).quantize(Decimal("0.1"))
    said = capsys.readouterr().out
    assert "station-battery" in said and "evening peak" in said
    assert f"{Decimal(battery['sold_kwh']).normalize():,f} kWh" in said
    last = said.strip().splitlines()[-1]  # and it ends by saying how to see the platform live
    assert "citymatch demo --serve" in last and "make demo-serve" in last and "http://127.0.0.1:8000/dashboard/" in last

    with (tmp_path / "trades.csv").open() as fh:
        trades = [TradeMatched(trade_id=r["trade_id"], slot=datetime.fromisoformat(r["slot"]), seller=r["seller"],
                               buyer=r["buyer"], kwh=Decimal(r["kwh"]), price=Decimal(r["price_yen_per_kwh"]),
                               tier=r["tier"], wheeling_fee=Decimal(r["wheeling_fee"]),
                               renewable=r["renewable"] == "True") for r in csv.DictReader(fh)]
    fig = _plot_market(tmp_path / "again.png", trades, load_community(COMMUNITY).name,
                       datetime.fromisoformat("2026-05-20").date())
    labels = [t.get_text() for t in fig.legends[0].get_texts()]
    assert "to grid" not in labels or any(t.buyer == "grid" for t in trades)
    assert "peer-to-peer" in labels
    assert overlapping_texts(fig) == [] and texts_outside_figure(fig) == []
