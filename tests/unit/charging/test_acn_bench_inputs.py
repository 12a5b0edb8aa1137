"""The ACN benchmark's inputs and report, in the project's own environment (no acnportal needed)."""

from __future__ import annotations

import gzip
import importlib.util
import json
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(REPO))  # bench/ is the repository's benchmark folder, not an installed package

from bench import acn, acn_sessions, common  # noqa: E402

DATA = REPO / "data" / "ev_sessions"
CSV_HEADER = ("arrival,departure,requested_energy (kWh),delivered_energy (kWh),station_id,session_id,"
              "estimated_departure,claimed\n")


def _csv(tmp_path: Path, rows: list[str]) -> Path:
    path = tmp_path / "sessions.csv.gz"
    path.write_bytes(gzip.compress((CSV_HEADER + "".join(r + "\n" for r in rows)).encode()))
    return path


def test_acnportal_is_not_needed_here():
    assert importlib.util.find_spec("acnportal") is None


def test_csv_sessions_become_periods_from_local_midnight_across_daylight_saving(tmp_path):
    path = _csv(tmp_path, [
        "2019-11-01 08:02:00-07:00,2019-11-01 17:31:00-07:00,20.0,11.5,CA-303,s1,2019-11-01 16:00:00-07:00,True",
        # after the clocks went back on 3 November: 10 days and 9:00 local is 10*288 + 108 + 12 periods later
        "2019-11-11 09:00:00-08:00,2019-11-11 09:04:00-08:00,5.0,0.3,CA-999,s2,,False",
        "2019-12-02 07:00:00-08:00,2019-12-02 12:00:00-08:00,9.0,8.0,CA-304,s3,2019-12-02 11:00:00-08:00,True",
    ])
    start, sessions = acn_sessions.load(path, month="2019-11")
    assert start.isoformat() == "2019-11-01T00:00:00-07:00"
    assert [s["session_id"] for s in sessions] == ["s1", "s2"]
    s1, s2 = sessions
    assert (s1["arrival"], s1["departure"]) == (96, 210)
    assert s1["requested_kwh"] == s1["capacity_kwh"] == 11.5 and s1["init_kwh"] == 0 and s1["max_kw"] == 6.6
    assert s1["estimated_departure"] == s1["departure"]
    assert s2["arrival"] == 10 * 288 + 108 + 12 and s2["departure"] == s2["arrival"]
    _, whole = acn_sessions.load(path)
    assert len(whole) == 3
    _, asked = acn_sessions.load(path, month="2019-11", demand="requested")
    assert asked[0]["requested_kwh"] == 20.0


def test_unknown_and_busy_stations_are_mapped_or_dropped_with_counts():
    sessions = [
        {"session_id": "a", "station_id": "X-1", "arrival": 0, "departure": 10, "estimated_departure": 10},
        {"session_id": "b", "station_id": "X-1", "arrival": 5, "departure": 8, "estimated_departure": 8},
        {"session_id": "c", "station_id": "ZZ", "arrival": 6, "departure": 9, "estimated_departure": 3},
        {"session_id": "d", "station_id": "X-2", "arrival": 7, "departure": 7, "estimated_departure": 7},
        {"session_id": "e", "station_id": "X-1", "arrival": 10, "departure": 12, "estimated_departure": 12},
    ]
    placed, counts = acn_sessions.place(sessions, ["X-1", "X-2"], "map")
    assert {s["session_id"]: s["station_id"] for s in placed} == {"a": "X-1", "b": "X-2", "e": "X-1"}
    assert counts == {"kept": 2, "mapped_station_busy": 1, "dropped_no_free_station": 1,
                      "dropped_shorter_than_a_period": 1}
    placed, counts = acn_sessions.place(sessions, ["X-1", "X-2", "X-3"], "drop")
    assert [s["session_id"] for s in placed] == ["a", "e"]
    assert counts["dropped_unknown_station"] == 1 and counts["dropped_station_busy"] == 1
    placed, _ = acn_sessions.place(sessions, ["X-1", "X-2", "X-3"], "map")
    assert next(s for s in placed if s["session_id"] == "c")["estimated_departure"] == 9  # an estimate before arrival


def test_bad_csv_names_the_missing_columns(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("arrival,departure\n2019-11-01 08:02:00-07:00,2019-11-01 09:00:00-07:00\n")
    with pytest.raises(acn_sessions.SessionFileError, match="station_id"):
        acn_sessions.load(path)


def test_shipped_events_file_reads_as_acn_sims_march():
    start, sessions = acn_sessions.load(DATA / "acn_caltech_2019-03_events.json.gz")
    assert start.isoformat() == "2019-03-01T00:00:00-08:00"
    assert len(sessions) == 954
    assert len({s["station_id"] for s in sessions}) == 47
    assert sum(s["requested_kwh"] for s in sessions) == pytest.approx(8900.5, abs=0.05)
    assert all(s["max_kw"] == 6.6 and s["departure"] > s["arrival"] for s in sessions)


def test_shipped_csv_reads_one_month():
    start, sessions = acn_sessions.load(DATA / "acn_caltech_2019-09-01_2019-12-31.csv.gz", month="2019-10")
    assert start.isoformat() == "2019-10-01T00:00:00-07:00"
    assert 500 < len(sessions) < 1500
    assert all(0 <= s["arrival"] < 31 * 288 + 12 for s in sessions)


def test_report_has_the_bench_shape_and_delivered_share_per_cap_and_method(tmp_path, monkeypatch):
    run = {"delivered_share": 0.9, "delivered_kwh": 9.0, "requested_kwh": 10.0, "peak_kw": 29.5,
           "energy_cost_usd": 1.0, "demand_charge_usd": 0.0, "seconds": 1.0, "scheduler_calls": 3,
           "infeasible_periods": 0}
    raw = {"sessions": 2, "placement": {"kept": 2},
           "runs": {"30": {"ours": {**run, "delivered_share": 0.92}, "llf": run,
                           "edf": {**run, "delivered_share": 0.8}}},
           "optimum": {"30": {"delivered_share": 0.925, "bound_share": 0.926, "peak_kw": 30.0}}}
    metrics, baseline, ratio = acn.summarise(raw, ["ours", "llf", "edf"])
    assert metrics["delivered_share"] == {"30": {"ours": 0.92, "llf": 0.9, "edf": 0.8}}
    assert metrics["peak_kw"]["30"]["ours"] == 29.5
    assert metrics["offline_optimum_share"] == {"30": 0.925}
    assert metrics["gap_to_optimum_points"]["30"] == pytest.approx(0.6)
    assert baseline == {"llf": {"30": 0.9}, "edf": {"30": 0.8}}
    assert ratio == {"30": pytest.approx(0.92 / 0.9, rel=1e-4)}
    monkeypatch.setattr(common, "REPORT_DIR", tmp_path)
    path = common.write_report("acn", {"caps_kw": [30.0]}, metrics, baseline, ratio)
    report = json.loads(path.read_text())
    assert set(report) == {"name", "params", "metrics", "baseline", "ratio", "git", "date"}
    assert report["name"] == "acn" and report["metrics"]["delivered_share"]["30"]["llf"] == 0.9
