"""Turn a simulated day into the numbers planners compare: loads, level of service, footfall, sales, offers.

Pure functions over the engine's arrays; the report and the CLI only format what these return.
"""

from __future__ import annotations

import numpy as np

from simulator.demand import MALL_KEYS, PURPOSES, Demand
from simulator.engine import EngineResult
from simulator.incentives import OfferOutcome
from simulator.los import los_from_density, los_from_flow
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


def chokepoint_kpis(result: EngineResult, net: WalkNetwork) -> dict[str, dict[str, object]]:
    density = result.density(net)
    out: dict[str, dict[str, object]] = {}
    for key, link in net.chokepoints.items():
        width = float(net.link_width_m[link])
        flow = result.flow[:, link]
        peak15 = rolling_mean(flow, PEAK_WINDOW_MIN)
        per_m = peak15 / width
        dens = rolling_mean(density[:, link], PEAK_WINDOW_MIN)
        worst_minute = int(np.argmax(peak15))
        los_by_minute = los_from_flow(per_m)
        out[key] = {
            "name": net.chokepoint_info[key].name,
            "width_m": width,
            "daily_flow": int(flow.sum()),
            "peak_flow_per_min": int(flow.max()),
            "peak_15min_flow_per_min": round(float(peak15.max()), 1),
            "peak_15min_end": clock(worst_minute),
            "peak_flow_per_m_min": round(float(per_m.max()), 1),
            "los_flow": str(los_from_flow(per_m.max())),
            "peak_density_p_m2": round(float(dens.max()), 3),
            "los_space": str(los_from_density(dens.max())),
            "minutes_los_d_or_worse": int(np.isin(los_by_minute, ["D", "E", "F"]).sum()),
        }
    return out


def footfall(result: EngineResult, demand: Demand) -> dict[str, int]:
    arrived = result.arrive >= 0
    return {m: int(((demand.trips.dest_mall == i) & arrived).sum()) for i, m in enumerate(MALL_KEYS)}


def measure(s: Scenario, result: EngineResult, demand: Demand, net: WalkNetwork) -> dict[str, object]:
    """KPIs of one simulated day."""
    trips = demand.trips
    visits = footfall(result, demand)
    sales = {m: sales_yen(n, s.sales.spend_yen.get(m, 0), s.sales.purchase_rate) for m, n in visits.items()}
    done = (result.arrive >= 0) & (result.depart >= 0)
    walk = (result.arrive[done] - result.depart[done] + 1).astype(float)
    chokepoints = chokepoint_kpis(result, net)
    shopping = np.isin(trips.purpose, [PURPOSES.index("shopping")])
    shop_events = {line: int(((trips.alight_line == i) & shopping).sum() + ((trips.board_line == i) & shopping).sum())
                   for i, line in enumerate(LINES)}
    worst = max(chokepoints.values(), key=lambda c: c["peak_15min_flow_per_min"])
    return {
        "agents": trips.n_agents,
        "trips": len(trips),
        "station_events": trips.station_events(),
        "station_events_from_shopping": shop_events,
        "completed_trip_share": round(float(done.mean()) if len(done) else 0.0, 4),
        "mean_walk_min": round(float(walk.mean()) if len(walk) else 0.0, 2),
        "chokepoints": chokepoints,
        "peak_load_per_min": worst["peak_15min_flow_per_min"],
        "peak_load_where": worst["name"],
        "worst_los": max(str(c["los_flow"]) for c in chokepoints.values()),
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


def kpi_rows(kpis: dict[str, object]) -> list[tuple[str, object, object]]:
    """The KPI table: (label, baseline or '', scenario), in reading order."""
    base = kpis.get("baseline") or {}

    def both(label: str, key: str) -> tuple[str, object, object]:
        return label, base.get(key, "") if base else "", kpis.get(key, "")

    rows = [
        ("people simulated", "", kpis["agents"]),
        ("walking trips", "", kpis["trips"]),
        both("peak 15-min load, persons/min", "peak_load_per_min"),
        ("  where", base.get("peak_load_where", "") if base else "", kpis["peak_load_where"]),
        both("worst level of service (Fruin, flow)", "worst_los"),
        both("footfall, all centres (visits/day)", "footfall_total"),
        both("estimated sales, yen/day", "sales_yen_total"),
        both("mean walk, min", "mean_walk_min"),
        ("offers sent", "", kpis.get("offers_sent", 0)),
        ("shifted trips (offers accepted)", "", kpis.get("shifted_trips", 0)),
        ("cost of offers, yen", "", kpis.get("cost_yen", 0)),
        ("cost per shifted trip, yen", "", kpis.get("cost_per_shifted_trip_yen") or "-"),
    ]
    target = kpis.get("target")
    if isinstance(target, dict):
        where = f"{target['chokepoint']} {target['window'][0]}-{target['window'][1]}"
        rows += [
            (f"load at {where}", target["load_before"], target["load_after"]),
            (f"change at {where}, %", "", target["load_change_pct"]),
            (f"peak 15-min at {target['chokepoint']}, persons/min", target["peak_15min_before"],
             target["peak_15min_after"]),
            ("cost per trip removed from the window, yen", "", target.get("cost_per_trip_removed_yen") or "-"),
        ]
    for key, cp in kpis["chokepoints"].items():  # type: ignore[union-attr]
        b = base.get("chokepoints", {}).get(key, {}) if base else {}
        rows.append((f"{cp['name']}: peak 15-min persons/min (LOS)",
                     f"{b['peak_15min_flow_per_min']} ({b['los_flow']})" if b else "",
                     f"{cp['peak_15min_flow_per_min']} ({cp['los_flow']})"))
    for mall, n in kpis["footfall"].items():  # type: ignore[union-attr]
        rows.append((f"footfall {mall}", base.get("footfall", {}).get(mall, "") if base else "", n))
    for mall, n in kpis["sales_yen"].items():  # type: ignore[union-attr]
        rows.append((f"estimated sales {mall}, yen", base.get("sales_yen", {}).get(mall, "") if base else "", n))
    shop = kpis["station_events_from_shopping"]
    rows.append(("station events from shopping (Odakyu/Sotetsu/JR)", "",
                 "/".join(str(shop[line]) for line in ("odakyu", "sotetsu", "jr"))))  # type: ignore[index]
    return rows
