"""Turn a simulated day into the numbers planners compare: loads, level of service, footfall, sales, offers.

Pure functions over the engine's arrays; the report and the CLI only format what these return.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from simulator.demand import MALL_KEYS, PURPOSES, Demand
from simulator.engine import EngineResult
from simulator.formatting import bilingual, line_name, mall_name, with_unit
from simulator.incentives import OfferOutcome
from simulator.los import los_from_density, los_from_flow, rank, space_m2_per_person, worse_of
from simulator.network import WalkNetwork
from simulator.places import LINES
from simulator.ridership_sales import sales_yen
from simulator.scenario import Scenario

PEAK_WINDOW_MIN = 15


def clock(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


def rolling_mean(x: np.ndarray, window: int) -> np.ndarray:
    """Mean over the trailing ``window`` minutes (shorter at the start of the day)."""
    c = np.cumsum(np.concatenate([[0.0], x.astype(float)]))
    idx = np.arange(1, len(x) + 1)
    lo = np.maximum(idx - window, 0)
    return (c[idx] - c[lo]) / (idx - lo)


def window_label(end_minute: int, window: int = PEAK_WINDOW_MIN) -> str:
    """The trailing window that ends with minute ``end_minute``, e.g. '07:42-07:57'."""
    return f"{clock(max(end_minute - window + 1, 0))}-{clock(end_minute + 1)}"


def chokepoint_kpis(result: EngineResult, net: WalkNetwork) -> dict[str, dict[str, object]]:
    """Per chokepoint: load and level of service (see :func:`chokepoint_los`)."""
    return chokepoint_los(result, net)[0]


def chokepoint_los(result: EngineResult, net: WalkNetwork) -> tuple[dict[str, dict[str, object]], np.ndarray]:
    """Per chokepoint: load, and Fruin's level of service by flow and by space, each over 15-minute means.

    The two measures answer different questions (how many pass per metre of width; how much room each
    person has, queues included), so both are kept; ``los`` is the worse one, which is what to design for.
    """
    density = result.density(net)
    out: dict[str, dict[str, object]] = {}
    crowded = np.zeros(result.flow.shape[0], dtype=bool)
    for key, link in net.chokepoints.items():
        info = net.chokepoint_info[key]
        width = float(net.link_width_m[link])
        flow = result.flow[:, link]
        peak15 = rolling_mean(flow, PEAK_WINDOW_MIN)
        per_m = peak15 / width
        dens = rolling_mean(density[:, link], PEAK_WINDOW_MIN)
        flow_end, space_end = int(np.argmax(per_m)), int(np.argmax(dens))
        los_flow, los_space = str(los_from_flow(per_m[flow_end])), str(los_from_density(dens[space_end]))
        per_minute = np.isin(worse_of(los_from_flow(per_m), los_from_density(dens)), ["D", "E", "F"])
        crowded |= per_minute
        if rank(los_space) > rank(los_flow):
            los, basis, worst_end = los_space, "space", space_end
        else:
            los, basis, worst_end = los_flow, "flow" if los_flow != los_space else "flow and space", flow_end
        out[key] = {
            "name": info.name,
            "name_ja": info.name_ja,
            "width_m": width,
            "daily_flow": int(flow.sum()),
            "peak_flow_per_min": int(flow.max()),
            "peak_15min_flow_per_min": round(float(peak15[flow_end]), 1),
            "peak_15min_end": clock(flow_end),
            "peak_15min_window": window_label(flow_end),
            "peak_flow_per_m_min": round(float(per_m[flow_end]), 1),
            "los_flow": los_flow,
            "los_flow_window": window_label(flow_end),
            "peak_density_p_m2": round(float(dens[space_end]), 3),
            "min_space_m2_per_person": round(space_m2_per_person(float(dens[space_end])), 2),
            "los_space": los_space,
            "los_space_window": window_label(space_end),
            "los": los,
            "los_basis": basis,
            "los_window": window_label(worst_end),
            "minutes_los_d_or_worse": int(per_minute.sum()),
        }
    return out, crowded


def worst_level_of_service(chokepoints: dict[str, dict[str, object]], crowded_minutes: int) -> dict[str, object]:
    """The headline: the worst level (worse of flow and space) over all chokepoints, where and when.

    Ties go to the chokepoint that spends longer at D or worse, then to the higher flow per metre.
    """
    key = max(chokepoints, key=lambda k: (rank(str(chokepoints[k]["los"])),
                                          int(chokepoints[k]["minutes_los_d_or_worse"]),  # type: ignore[call-overload]
                                          float(chokepoints[k]["peak_flow_per_m_min"])))  # type: ignore[arg-type]
    cp = chokepoints[key]
    return {
        "worst_los": cp["los"],
        "worst_los_key": key,
        "worst_los_where": cp["name"],
        "worst_los_where_ja": cp["name_ja"],
        "worst_los_window": cp["los_window"],
        "worst_los_basis": cp["los_basis"],
        "minutes_los_d_or_worse": crowded_minutes,
    }


def footfall(result: EngineResult, demand: Demand) -> dict[str, int]:
    """Visits per centre: walks that arrived within the day, plus rides that end there (``Demand.rides``)."""
    arrived = result.arrive >= 0
    rides = demand.rides
    by_ride = np.zeros(len(MALL_KEYS), np.int64) if rides is None else np.bincount(
        rides.dest_mall[rides.dest_mall >= 0], minlength=len(MALL_KEYS))
    return {m: int(((demand.trips.dest_mall == i) & arrived).sum() + by_ride[i]) for i, m in enumerate(MALL_KEYS)}


def _station_events(demand: Demand) -> dict[str, int]:
    """Boardings plus alightings: a ride to or from the station still takes the train."""
    events = demand.trips.station_events()
    if demand.rides is not None:
        events = {k: v + demand.rides.station_events()[k] for k, v in events.items()}
    return events


def measure(s: Scenario, result: EngineResult, demand: Demand, net: WalkNetwork) -> dict[str, object]:
    """KPIs of one simulated day."""
    trips = demand.trips
    visits = footfall(result, demand)
    sales = {m: sales_yen(n, s.sales.spend_yen.get(m, 0), s.sales.purchase_rate) for m, n in visits.items()}
    done = (result.arrive >= 0) & (result.depart >= 0)
    walk = (result.arrive[done] - result.depart[done] + 1).astype(float)
    chokepoints, crowded = chokepoint_los(result, net)
    everyone = [trips] if demand.rides is None else [trips, demand.rides]
    shop_events = dict.fromkeys(LINES, 0)
    for group in everyone:
        shopping = group.purpose == PURPOSES.index("shopping")
        for i, line in enumerate(LINES):
            shop_events[line] += int(((group.alight_line == i) & shopping).sum()
                                     + ((group.board_line == i) & shopping).sum())
    worst = max(chokepoints.values(), key=lambda c: c["peak_15min_flow_per_min"])
    los = worst_level_of_service(chokepoints, int(crowded.sum()))
    return {
        "agents": max(group.n_agents for group in everyone),
        "trips": len(trips),
        "station_events": _station_events(demand),
        "station_events_from_shopping": shop_events,
        "completed_trip_share": round(float(done.mean()) if len(done) else 0.0, 4),
        "mean_walk_min": round(float(walk.mean()) if len(walk) else 0.0, 2),
        "chokepoints": chokepoints,
        "peak_load_per_min": worst["peak_15min_flow_per_min"],
        "peak_load_where": worst["name"],
        "peak_load_where_ja": worst["name_ja"],
        "peak_load_window": worst["peak_15min_window"],
        **los,
        "footfall": visits,
        "footfall_total": sum(visits.values()),
        "sales_yen": sales,
        "sales_yen_total": sum(sales.values()),
        "active_agent_steps": result.active_agent_steps,
    }


def window_load(result: EngineResult, link: int, window: tuple[int, int]) -> int:
    a, b = window
    return int(result.flow[a:b, link].sum())


def offer_kpis(s: Scenario, outcomes: list[OfferOutcome], result: EngineResult,
               baseline: EngineResult | None, net: WalkNetwork) -> dict[str, object]:
    """Shifted trips, cost, cost per shifted trip and the load change where the first targeted offer aimed."""
    shifted = sum(o.accepted for o in outcomes)
    cost = sum(o.cost_yen for o in outcomes)
    out: dict[str, object] = {
        "offers": [o.as_dict() for o in outcomes],
        "offers_sent": sum(o.sent for o in outcomes),
        "shifted_trips": shifted,
        "cost_yen": cost,
        "cost_per_shifted_trip_yen": (cost + shifted // 2) // shifted if shifted else None,
        "ev_kwh_moved": sum(o.ev_kwh_moved for o in outcomes),
    }
    targeted = [o for o in s.offers if o.chokepoint]
    if targeted and baseline is not None:
        offer = targeted[0]
        link = net.chokepoints[offer.chokepoint]
        before = window_load(baseline, link, offer.window_minutes)
        after = window_load(result, link, offer.window_minutes)
        peak_before = float(rolling_mean(baseline.flow[:, link], PEAK_WINDOW_MIN).max())
        peak_after = float(rolling_mean(result.flow[:, link], PEAK_WINDOW_MIN).max())
        out["target"] = {
            "chokepoint": offer.chokepoint,
            "window": [clock(m) for m in offer.window_minutes],
            "load_before": before,
            "load_after": after,
            "load_change_pct": round(100.0 * (after - before) / before, 2) if before else 0.0,
            "peak_15min_before": round(peak_before, 1),
            "peak_15min_after": round(peak_after, 1),
            "peak_change_pct": round(100.0 * (peak_after - peak_before) / peak_before, 2) if peak_before else 0.0,
            "cost_per_trip_removed_yen": (cost // (before - after)) if before > after else None,
        }
    return out


class KpiRow(NamedTuple):
    """One line of the KPI table: raw values (for CSV) and the unit they are in."""

    label: str
    unit: str
    before: object  # "" when the run has no day without offers
    value: object


def kpi_rows(kpis: dict[str, Any]) -> list[KpiRow]:
    """The KPI table in reading order; places by name, Japanese beside English."""
    base: dict[str, Any] = kpis.get("baseline") or {}

    def both(label: str, key: str, unit: str) -> KpiRow:
        return KpiRow(label, unit, base.get(key, ""), kpis.get(key, ""))

    def place(key: str) -> str:
        return bilingual(str(kpis[key]), str(kpis.get(f"{key}_ja", "")))

    def base_place(key: str) -> str:
        return bilingual(str(base[key]), str(base.get(f"{key}_ja", ""))) if base else ""

    rows = [
        KpiRow("people simulated", "people", "", kpis["agents"]),
        KpiRow("walking trips", "trips", "", kpis["trips"]),
        both("peak 15-min load", "peak_load_per_min", "persons/min"),
        KpiRow("  where", "", base_place("peak_load_where"), place("peak_load_where")),
        KpiRow("  when", "", base.get("peak_load_window", ""), kpis["peak_load_window"]),
        both("worst level of service (Fruin, worse of flow and space)", "worst_los", ""),
        KpiRow("  where", "", base_place("worst_los_where"), place("worst_los_where")),
        KpiRow("  when (15 minutes)", "", base.get("worst_los_window", ""), kpis["worst_los_window"]),
        KpiRow("  measured by", "", base.get("worst_los_basis", ""), kpis["worst_los_basis"]),
        both("minutes with a chokepoint at level D or worse", "minutes_los_d_or_worse", "min"),
        both("footfall, all centres", "footfall_total", "visits"),
        both("estimated sales, all centres", "sales_yen_total", "yen"),
        both("mean walk", "mean_walk_min", "min"),
        KpiRow("offers sent", "offers", "", kpis.get("offers_sent", 0)),
        KpiRow("shifted trips (offers accepted)", "trips", "", kpis.get("shifted_trips", 0)),
        KpiRow("cost of offers", "yen", "", kpis.get("cost_yen", 0)),
        KpiRow("cost per shifted trip", "yen", "", kpis.get("cost_per_shifted_trip_yen") or "-"),
        KpiRow("rides instead of walks", "rides", "", kpis.get("rides", 0)),
        KpiRow("  people who rode", "people", "", kpis.get("riders", 0)),
        KpiRow("  walks replaced", "walks", "", kpis.get("walks_replaced", 0)),
        KpiRow("  share of all walks", "%", "", round(100.0 * kpis.get("ride_share", 0.0), 2)),
        KpiRow("  minutes saved per ride (mean)", "min", "", kpis.get("ride_minutes_saved_mean", 0.0)),
        KpiRow("  fares", "yen", "", kpis.get("ride_fares_yen", 0)),
    ]
    target = kpis.get("target")
    if isinstance(target, dict):
        cp = kpis["chokepoints"][target["chokepoint"]]
        where = f"{bilingual(cp['name'], cp.get('name_ja', ''))} {target['window'][0]}-{target['window'][1]}"
        rows += [
            KpiRow(f"walkers at {where}", "walkers", target["load_before"], target["load_after"]),
            KpiRow(f"change at {where}", "%", "", target["load_change_pct"]),
            KpiRow(f"peak 15-min at {cp['name']}", "persons/min", target["peak_15min_before"],
                   target["peak_15min_after"]),
            KpiRow("cost per trip removed from the window", "yen", "", target.get("cost_per_trip_removed_yen") or "-"),
        ]
    for mall, n in kpis["footfall"].items():
        rows.append(KpiRow(f"footfall {mall_name(mall)}", "visits", base.get("footfall", {}).get(mall, ""), n))
    for mall, n in kpis["sales_yen"].items():
        rows.append(KpiRow(f"estimated sales {mall_name(mall)}", "yen", base.get("sales_yen", {}).get(mall, ""), n))
    for line, n in kpis["station_events_from_shopping"].items():
        rows.append(KpiRow(f"station events from shopping, {line_name(line)}", "boardings + alightings", "", n))
    return rows


def formatted_rows(rows: list[KpiRow]) -> list[tuple[str, str, str]]:
    """(label, before, scenario) with thousands separators and units, for pages and the terminal."""
    return [(r.label, with_unit(r.before, r.unit), with_unit(r.value, r.unit)) for r in rows]
