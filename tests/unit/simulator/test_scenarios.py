"""Scenarios run end to end: offers change trips, the report files are written, the CLI works."""

from __future__ import annotations

import json

import pytest

import simulator
from simulator.cli import data_main, sim_main
from simulator.scenario import Scenario, load_scenario, shipped_scenarios


def test_three_scenarios_are_shipped_and_valid():
    """Weekday, evening event and rainy Saturday load and validate."""
    names = shipped_scenarios()
    assert {"ebina_weekday", "ebina_weekday_event", "ebina_rainy_saturday"} <= set(names)
    for name in names:
        assert load_scenario(name).name == name


def test_bad_offer_window_is_refused():
    """An offer window that ends before it starts is rejected with a message."""
    with pytest.raises(ValueError, match="window"):
        Scenario(name="bad", offers=[{"type": "shift_later", "reward_yen": 100, "window": ["18:00", "17:00"]}])


def test_event_offers_cut_the_load_they_target():
    """In the evening-event scenario the offers lower the east-deck load in their window and cost yen."""
    k = simulator.run_kpis("ebina_weekday_event", agents=15_000)
    assert k["shifted_trips"] > 0
    assert k["target"]["load_after"] < k["target"]["load_before"]
    assert isinstance(k["cost_yen"], int) and k["cost_yen"] <= 250_000
    assert k["cost_per_shifted_trip_yen"] > 0


def test_kpis_dict_is_json_ready():
    """run_kpis returns a JSON-serialisable dict for a small population."""
    k = simulator.run_kpis("ebina_rainy_saturday", agents=5000)
    text = json.dumps(k)
    assert "footfall" in k and k["agents"] == pytest.approx(5000, abs=10)
    assert k["wall_s"] > 0 and len(text) > 100  # speed is measured by bench-sim, not here


def test_cli_run_writes_report_files(tmp_path):
    """`sim run` writes the HTML report, CSVs and GeoJSON into the output directory."""
    out = tmp_path / "weekday"
    assert sim_main(["run", "--scenario", "ebina_weekday", "--agents", "4000", "--out", str(out),
                     "--no-progress"]) == 0
    for name in ("report.html", "kpis.json", "kpis.csv", "chokepoints.csv", "chokepoint_minutes.csv",
                 "link_flows_hourly.csv", "offers.csv", "links.geojson"):
        assert (out / name).stat().st_size > 0, name
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "data:image/png;base64," in html and "schematic" in html and "OpenStreetMap" in html
    geo = json.loads((out / "links.geojson").read_text(encoding="utf-8"))
    assert geo["features"] and "daily_flow" in geo["features"][0]["properties"]


def test_cli_compare_two_runs(tmp_path):
    """`sim compare` reads two run directories at the same share of the ridership and writes the table."""
    a, b = tmp_path / "a", tmp_path / "b"
    sim_main(["run", "--scenario", "ebina_weekday", "--scale", "0.02", "--out", str(a), "--no-progress"])
    sim_main(["run", "--scenario", "ebina_rainy_saturday", "--scale", "0.02", "--out", str(b), "--no-progress"])
    out = tmp_path / "cmp"
    assert sim_main(["compare", str(a), str(b), "--out", str(out)]) == 0
    text = (out / "compare.html").read_text(encoding="utf-8")
    assert "ebina_weekday" in text and "ebina_rainy_saturday" in text and "per 1,000 people" not in text


def test_cli_compare_refuses_different_population_shares(tmp_path, capsys):
    """Runs of different population sizes are refused with the reason, or compared per 1,000 people on request."""
    a, b = tmp_path / "a", tmp_path / "b"
    sim_main(["run", "--scenario", "ebina_weekday", "--agents", "3000", "--out", str(a), "--no-progress"])
    sim_main(["run", "--scenario", "ebina_weekday", "--agents", "1500", "--out", str(b), "--no-progress"])
    capsys.readouterr()
    assert sim_main(["compare", str(a), str(b), "--out", str(tmp_path / "no")]) == 2
    said = capsys.readouterr().out
    agents = json.loads((a / "kpis.json").read_text(encoding="utf-8"))["agents"]
    assert "not comparable" in said and f"{agents:,} people" in said and "--per-person" in said
    assert not (tmp_path / "no" / "compare.html").exists()
    out = tmp_path / "pp"
    assert sim_main(["compare", str(a), str(b), "--per-person", "--out", str(out)]) == 0
    text = (out / "compare.html").read_text(encoding="utf-8")
    assert "Per 1,000 simulated people" in text and "worst level of service" not in text


def test_compare_refuses_different_networks_and_old_files():
    """Different walking networks, or a kpis.json without the fields the comparison needs, are refused."""
    from simulator.compare import check

    k = simulator.run_kpis("ebina_weekday", agents=1000)
    other = {**k, "network_source": "ebina_walk_osm.graphml"}
    assert any("different walking networks" in p for p in check(k, other).problems)
    old = {key: v for key, v in k.items() if key != "worst_los_window"}
    assert any("older version" in p for p in check(k, old).problems)
    assert check(k, k).comparable


def test_cli_unknown_scenario_is_an_error():
    """A scenario that does not exist returns exit code 2 instead of a traceback."""
    assert sim_main(["run", "--scenario", "no_such_scenario", "--no-progress"]) == 2


def test_build_network_command_regenerates_file(tmp_path):
    """`data build-network --out` writes a loadable OSM XML."""
    out = tmp_path / "net.osm"
    assert data_main(["build-network", "--out", str(out)]) == 0
    assert out.read_text(encoding="utf-8").startswith("<?xml")


def test_report_without_offers(tmp_path):
    """A scenario without offers has no baseline block and still writes a complete report."""
    from simulator.report import write_report

    sim = simulator.run_scenario(Scenario(name="plain", population={"agents": 2000}))
    assert sim.baseline is None and "baseline" not in sim.kpis
    written = write_report(sim, tmp_path)
    assert written["report.html"].read_text(encoding="utf-8").count("data:image/png") == 3


def test_reward_sweep_buys_more_acceptances_with_more_yen():
    """Raising the reward of the same offer to the same people raises acceptances and cost."""
    from simulator.sweep import reward_sweep

    rows = reward_sweep(load_scenario("ebina_weekday_event"), [50, 500], agents=6000)
    low, high = rows
    assert low["sent"] == high["sent"] > 0
    assert high["accepted"] > low["accepted"]
    assert high["cost_yen"] > low["cost_yen"]
