"""ACN-Data charging sessions as plain records, read from an ACN-Sim events file or an ACN-Data CSV.

Standard library only: the benchmark's outer process (the project's environment) and the simulation
process (the benchmark's own environment with acnportal) both use it. A session is a dict with periods
counted from the simulation's start (local midnight of the first day of the month):

    session_id, station_id, arrival, departure, estimated_departure (periods), requested_kwh,
    capacity_kwh, init_kwh, max_kw (the battery's charging power)

The CSV conversion follows ACN-Sim's own conversion of ACN-Data sessions: the energy the session took
(``delivered_energy``) is what the car requests (so uncontrolled charging is the 100 % reference), the
battery holds exactly that from empty, charges at ``max_kw`` at most, and the departure is known
(the estimated departure equals the real one). ``demand="requested"`` takes the driver's own request
instead (often more than the stay could take).
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import re
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

SITE_ZONE = ZoneInfo("America/Los_Angeles")
PERIOD_MIN = 5
DEFAULT_MAX_KW = 6.6  # the battery power ACN-Sim's comparison assumes for every car
CSV_COLUMNS = ("arrival", "departure", "requested_energy (kWh)", "delivered_energy (kWh)", "station_id", "session_id")


class SessionFileError(ValueError):
    """The file is neither an ACN-Sim events file nor an ACN-Data CSV with the expected columns."""


def _read_text(path: Path) -> str:
    raw = path.read_bytes()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    return raw.decode("utf-8")


def is_events_file(path: Path) -> bool:
    return ".json" in path.name


def load(path: Path, *, month: str | None = None, demand: str = "delivered", max_kw: float = DEFAULT_MAX_KW,
         start: str | None = None) -> tuple[datetime, list[dict[str, Any]]]:
    """The simulation's start and its sessions, from either format (chosen by the file name)."""
    if is_events_file(path):
        return load_events(path, start=start)
    return load_csv(path, month=month, demand=demand, max_kw=max_kw)


def load_events(path: Path, *, start: str | None = None) -> tuple[datetime, list[dict[str, Any]]]:
    """An acnportal-serialised ``EventQueue`` (JSON text inside JSON): its plug-in events' EVs and batteries.

    The start is ``start`` (ISO date) or the ``YYYY-MM`` (or ``YYYYMMDD``) in the file name, at local midnight.
    """
    doc = json.loads(_read_text(path))
    if isinstance(doc, str):
        doc = json.loads(doc)
    context = doc.get("context_dict") if isinstance(doc, dict) else None
    if not isinstance(context, dict):
        raise SessionFileError(f"{path.name}: no context_dict, not an ACN-Sim events file")
    sessions = []
    for entry in context.values():
        attrs = entry.get("attributes", {})
        if not entry.get("class", "").endswith("PluginEvent"):
            continue
        ev = context[attrs["ev"]]["attributes"]
        battery = context[ev["_battery"]]["attributes"]
        sessions.append({
            "session_id": ev["_session_id"], "station_id": ev["_station_id"],
            "arrival": int(ev["_arrival"]), "departure": int(ev["_departure"]),
            "estimated_departure": int(ev.get("_estimated_departure") or ev["_departure"]),
            "requested_kwh": float(ev["_requested_energy"]), "capacity_kwh": float(battery["_capacity"]),
            "init_kwh": float(battery.get("_init_charge", 0.0)), "max_kw": float(battery["_max_power"]),
        })
    sessions.sort(key=lambda s: (s["arrival"], s["session_id"]))
    return _start_of(path, start), sessions


def _start_of(path: Path, start: str | None) -> datetime:
    if start:
        day = datetime.fromisoformat(start)
    else:
        found = re.search(r"(\d{4})-?(\d{2})(?:-?(\d{2}))?(?:T|_|-|$)", path.name)
        if not found:
            raise SessionFileError(f"{path.name}: no YYYY-MM in the name; give the start date (--start)")
        day = datetime(int(found.group(1)), int(found.group(2)), int(found.group(3) or 1), tzinfo=SITE_ZONE)
    return day.replace(tzinfo=SITE_ZONE) if day.tzinfo is None else day


def load_csv(path: Path, *, month: str | None = None, demand: str = "delivered",
             max_kw: float = DEFAULT_MAX_KW) -> tuple[datetime, list[dict[str, Any]]]:
    """ACN-Data sessions (times with their UTC offset) of one month (``YYYY-MM``) or the whole file."""
    if demand not in ("delivered", "requested"):
        raise SessionFileError("demand must be 'delivered' or 'requested'")
    rows = list(csv.DictReader(io.StringIO(_read_text(path))))
    missing = [c for c in CSV_COLUMNS if rows and c not in rows[0]]
    if not rows or missing:
        raise SessionFileError(f"{path.name}: expected ACN-Data columns {', '.join(CSV_COLUMNS)}; missing {missing}")
    parsed = []
    for row in rows:
        arrival = datetime.fromisoformat(row["arrival"]).astimezone(SITE_ZONE)
        departure = datetime.fromisoformat(row["departure"]).astimezone(SITE_ZONE)
        if month and arrival.strftime("%Y-%m") != month:
            continue
        kwh = float(row["delivered_energy (kWh)" if demand == "delivered" else "requested_energy (kWh)"] or 0.0)
        parsed.append((arrival, departure, kwh, row))
    if not parsed:
        raise SessionFileError(f"{path.name}: no session arrives in {month}")
    first = min(a for a, _, _, _ in parsed)
    start = datetime(first.year, first.month, 1, tzinfo=SITE_ZONE)
    sessions = []
    for arrival, departure, kwh, row in parsed:
        a, d = periods_since(start, arrival), periods_since(start, departure)
        sessions.append({
            "session_id": row["session_id"], "station_id": row["station_id"], "arrival": a, "departure": d,
            "estimated_departure": d, "requested_kwh": kwh, "capacity_kwh": kwh, "init_kwh": 0.0, "max_kw": max_kw,
        })
    sessions.sort(key=lambda s: (s["arrival"], s["session_id"]))
    return start, sessions


def periods_since(start: datetime, moment: datetime, period_min: int = PERIOD_MIN) -> int:
    """Whole periods from ``start`` to ``moment`` (rounded down, as ACN-Sim does), in elapsed time.

    Both go through UTC first: Python subtracts aware datetimes of one zone on the wall clock, which would
    put every session after a daylight-saving change an hour off.
    """
    return int((moment.astimezone(UTC) - start.astimezone(UTC)) // timedelta(minutes=period_min))


def place(sessions: list[dict[str, Any]], station_ids: list[str], mode: str = "map") -> tuple[list[dict], Counter]:
    """Sessions on the network's stations, one car per station at a time, and what happened to the others.

    A session keeps its station when the network has it and it is free. Otherwise ``mode="map"`` moves it
    to the network's first free station (in the network's order) and ``mode="drop"`` drops it. Sessions
    shorter than one period are dropped either way.
    """
    if mode not in ("map", "drop"):
        raise SessionFileError("stations mode must be 'map' or 'drop'")
    known = set(station_ids)
    busy_until = dict.fromkeys(station_ids, -1)
    counts: Counter = Counter()
    placed = []
    for s in sorted(sessions, key=lambda s: (s["arrival"], s["session_id"])):
        if s["departure"] <= s["arrival"]:
            counts["dropped_shorter_than_a_period"] += 1
            continue
        station = s["station_id"]
        free = station in known and busy_until[station] <= s["arrival"]
        if not free:
            reason = "unknown_station" if station not in known else "station_busy"
            if mode == "drop":
                counts[f"dropped_{reason}"] += 1
                continue
            station = next((sid for sid in station_ids if busy_until[sid] <= s["arrival"]), None)
            if station is None:
                counts["dropped_no_free_station"] += 1
                continue
            counts[f"mapped_{reason}"] += 1
        else:
            counts["kept"] += 1
        busy_until[station] = s["departure"]
        estimated = s["estimated_departure"] if s["estimated_departure"] > s["arrival"] else s["departure"]
        placed.append({**s, "station_id": station, "estimated_departure": estimated})
    return placed, counts
