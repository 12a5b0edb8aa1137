"""The planner's page of one run: a headline, the tables it comes from, the figures, the method notes.

Every headline figure carries ``data-kpi`` and its raw value, and every table cell it is drawn from a
``data-col``, so a test (and a careful reader) can check the headline against the tables below it.
"""

from __future__ import annotations

import html
from collections.abc import Iterable
from typing import Any

from matplotlib.figure import Figure

from simulator.choice import calibration_table, coupon_table
from simulator.figures import PAGE_WIDTH_PX, png_base64, report_figures
from simulator.formatting import bilingual, level, line_name, mall_name, number, with_unit
from simulator.geo import OSM_ATTRIBUTION, RAIL_ATTRIBUTION, SCHEMATIC_LABEL
from simulator.kpis import formatted_rows, kpi_rows
from simulator.ridership_sales import ridership_at_stake, shopping_share
from simulator.run import SimResult

FONT_STACK = "'Noto Sans', 'Noto Sans CJK JP', 'IPAGothic', 'DejaVu Sans', sans-serif"
PAGE_STYLE = (
    f"body{{font-family:{FONT_STACK};max-width:{PAGE_WIDTH_PX}px;margin:1em auto;padding:0 12px;color:#222;"
    "line-height:1.4}h1{font-size:1.6em}h2{margin-top:1.6em;border-bottom:1px solid #ddd}"
    "table{border-collapse:collapse;font-size:13px;margin:0.5em 0}td,th{border:1px solid #ccc;padding:3px 7px;"
    "vertical-align:top}th{background:#f0f0f0;text-align:left}td.num{text-align:right;white-space:nowrap}"
    ".note{color:#555;font-size:12px}.warning{background:#fff4e0;border-left:4px solid #e9a23b;padding:6px 10px}"
    "img{max-width:100%;height:auto;display:block;margin:0.5em 0}"
    ".headline{display:grid;grid-template-columns:repeat(auto-fit,minmax(260px,1fr));gap:10px;margin:1em 0}"
    ".card{border:1px solid #ccd;border-radius:6px;padding:8px 12px;background:#f8f9fc}"
    ".card .what{font-size:12px;color:#555}.card .value{font-size:1.35em;font-weight:bold}"
    ".card .detail{font-size:12px}.los-D,.los-E,.los-F{color:#b3261e}"
    ".scroll{overflow-x:auto}"
)
CHOKEPOINT_COLUMNS = (
    ("place", "place"), ("width", "width (m)"), ("daily", "walkers a day"),
    ("peak", "peak 15-min load (persons/min)"), ("peak_window", "when"),
    ("flow_per_m", "flow per metre (persons/m/min)"), ("los_flow", "level by flow"),
    ("density", "densest 15 min (persons/m²)"), ("space", "space each (m²)"), ("los_space", "level by space"),
    ("los_space_window", "when"), ("los", "level (worse of the two)"), ("d_minutes", "minutes at D or worse"),
)


def _cell(value: object, col: str = "", numeric: bool = False) -> str:
    attrs = (f" data-col='{col}'" if col else "") + (" class='num'" if numeric else "")
    return f"<td{attrs}>{html.escape(str(value))}</td>"


def html_table(rows: Iterable[Iterable[object]], header: list[str], name: str = "") -> str:
    """A plain table; cells that start with a digit or a sign are right-aligned."""
    out = [f"<div class='scroll'><table{f' data-table={chr(39)}{name}{chr(39)}' if name else ''}><tr>"
           + "".join(f"<th>{html.escape(h)}</th>" for h in header) + "</tr>"]
    for row in rows:
        cells = []
        for c in row:
            text = str(c)
            cells.append(_cell(text, numeric=bool(text) and (text[0].isdigit() or text[0] in "-+")))
        out.append("<tr>" + "".join(cells) + "</tr>")
    return "\n".join(out) + "</table></div>"


def _card(kpi: str, raw: object, what: str, value: str, detail: str = "", css: str = "") -> str:
    return (f"<div class='card' data-kpi='{kpi}' data-value='{html.escape(str(raw))}'>"
            f"<div class='what'>{html.escape(what)}</div>"
            f"<div class='value {css}'>{html.escape(value)}</div>"
            + (f"<div class='detail'>{html.escape(detail)}</div>" if detail else "") + "</div>")


def headline(k: dict[str, Any]) -> str:
    """The figures a planner reads first, each with where and when."""
    cp = k["chokepoints"][k["worst_los_key"]]
    basis = k["worst_los_basis"]
    measured = (f"by space: {number(cp['peak_density_p_m2'], 2)} persons/m², "
                f"{number(cp['min_space_m2_per_person'], 2)} m² each; by flow it is {cp['los_flow']}"
                if basis == "space" else
                f"by flow: {number(cp['peak_flow_per_m_min'])} persons/m/min; by space it is {cp['los_space']}"
                if basis == "flow" else "by flow and by space alike")
    cards = [
        _card("agents", k["agents"], "people simulated", with_unit(k["agents"], "people"),
              f"{k['scale']:.0%} of the real daily ridership" if k["scale"] < 0.999 else "the real daily ridership"),
        _card("worst_los", k["worst_los"], "worst level of service (Fruin, worse of flow and space)",
              f"{level(k['worst_los'])}",
              f"at {bilingual(k['worst_los_where'], k.get('worst_los_where_ja', ''))}, "
              f"{k['worst_los_window']}; {measured}", css=f"los-{k['worst_los']}"),
        _card("minutes_los_d_or_worse", k["minutes_los_d_or_worse"], "minutes with a chokepoint at D or worse",
              with_unit(k["minutes_los_d_or_worse"], "min"), "15-minute means, either measure"),
        _card("peak_load_per_min", k["peak_load_per_min"], "peak 15-minute load",
              with_unit(k["peak_load_per_min"], "persons/min"),
              f"at {bilingual(k['peak_load_where'], k.get('peak_load_where_ja', ''))}, {k['peak_load_window']}"),
        _card("footfall_total", k["footfall_total"], "footfall at the shopping centres",
              with_unit(k["footfall_total"], "visits"),
              ", ".join(f"{mall_name(m)} {number(n)}" for m, n in k["footfall"].items())),
        _card("sales_yen_total", k["sales_yen_total"], "estimated sales", with_unit(k["sales_yen_total"], "yen"),
              "footfall × share who buy × average spend"),
    ]
    if k.get("offers_sent"):
        cards.append(_card("shifted_trips", k["shifted_trips"], "trips shifted by offers",
                           with_unit(k["shifted_trips"], "trips"),
                           f"{number(k['offers_sent'])} offers sent, {with_unit(k['cost_yen'], 'yen')} paid"))
    return "<section class='headline' id='headline'>" + "".join(cards) + "</section>"


def chokepoint_table(k: dict[str, Any]) -> str:
    """Both Fruin measures per chokepoint, the worse one last: the table the headline's level comes from."""
    out = ["<div class='scroll'><table data-table='chokepoints'><tr>"
           + "".join(f"<th>{html.escape(h)}</th>" for _, h in CHOKEPOINT_COLUMNS) + "</tr>"]
    for key, cp in k["chokepoints"].items():
        values = {
            "place": bilingual(cp["name"], cp.get("name_ja", "")), "width": number(cp["width_m"]),
            "daily": number(cp["daily_flow"]), "peak": number(cp["peak_15min_flow_per_min"]),
            "peak_window": cp["peak_15min_window"], "flow_per_m": number(cp["peak_flow_per_m_min"]),
            "los_flow": cp["los_flow"], "density": number(cp["peak_density_p_m2"], 2),
            "space": number(cp["min_space_m2_per_person"], 2), "los_space": cp["los_space"],
            "los_space_window": cp["los_space_window"], "los": f"{cp['los']} ({cp['los_basis']})",
            "d_minutes": number(cp["minutes_los_d_or_worse"]),
        }
        numeric = {"width", "daily", "peak", "flow_per_m", "density", "space", "d_minutes"}
        out.append(f"<tr data-chokepoint='{key}' data-los='{cp['los']}' data-los-window='{cp['los_window']}'>"
                   + "".join(_cell(values[c], c, c in numeric) for c, _ in CHOKEPOINT_COLUMNS) + "</tr>")
    return "\n".join(out) + "</table></div>"


def _offers_table(sim: SimResult) -> str:
    if not sim.outcomes:
        return "<p>No offers in this scenario.</p>"
    rows = [(o.index + 1, o.type.replace("_", " "), with_unit(o.reward_yen, "yen"), number(o.eligible),
             number(o.sent), number(o.accepted), with_unit(o.cost_yen, "yen"), f"{o.mean_probability:.1%}",
             with_unit(round(o.ev_kwh_moved, 1), "kWh") if o.ev_kwh_moved else "-") for o in sim.outcomes]
    return html_table(rows, ["#", "offer", "reward", "eligible", "sent", "accepted", "cost", "mean P(accept)",
                             "EV energy moved"], name="offers")


def _figure(fig_b64: str, alt: str) -> str:
    return f"<img src='data:image/png;base64,{fig_b64}' alt='{html.escape(alt)}'>"


def render_page(sim: SimResult, figures: dict[str, Figure] | None = None) -> str:
    """The whole report.html of one run (``figures`` as :func:`report_figures` draws them, unless given)."""
    k = sim.kpis
    label = SCHEMATIC_LABEL if sim.network.schematic else "OpenStreetMap walking network"
    figures = figures or report_figures(sim)
    maps = "".join(_figure(png_base64(f), f"map of walkers, {name}") for name, f in figures.items()
                   if name in ("flows", "change"))
    calibration = [(r["programme"], r["where"], r["years"], with_unit(r["reward_yen"], "yen"),
                    with_unit(r["shift_min"], "min"), f"{r['observed']:.1%}", f"{r['fitted']:.1%}")
                   for r in calibration_table()]
    coupons = [(r["offer"].replace("_", " "), with_unit(r["change_min"], "min"),
                *(f"{r[p]:.1%}" for p in ("commute_in", "commute_out", "shopping", "leisure", "home")))
               for r in coupon_table(100)]
    events = k["station_events_from_shopping"]
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        "<meta name='viewport' content='width=device-width, initial-scale=1'>",
        f"<title>Ebina simulation: {html.escape(k['scenario'])}</title>",
        f"<style>{PAGE_STYLE}</style></head><body>",
        f"<h1>Ebina station area (海老名駅周辺): {html.escape(k['scenario'])}</h1>",
        f"<p>{html.escape(k.get('description') or '')}</p>",
        headline(k),
        f"<p class='note'>Network: <b>{html.escape(label)}</b> ({html.escape(k['network_source'])}). "
        f"Population: synthetic, {number(k['agents'])} people, seed {k['seed']}, {html.escape(k['day_type'])}. "
        f"Simulated in {k['wall_s']} s. Levels of service are Fruin's walkway levels over 15-minute means, "
        "by flow (persons per metre of width per minute) and by space (m² per person, queues included); "
        "the headline takes the worse of the two.</p>",
        "<h2>Key figures</h2>",
        html_table(formatted_rows(kpi_rows(k)), ["KPI", "before offers", "scenario"], name="kpis"),
        "<h2>Chokepoints: level of service by flow and by space</h2>",
        chokepoint_table(k),
        "<h2>Flows on the network</h2>",
        maps,
        "<h2>Chokepoints through the day</h2>",
        "<p class='note'>Dotted lines: the flow at which Fruin's level D and E start for the walkway's width. "
        "Wide light line: the day without offers; thin dark line: with offers.</p>",
        _figure(png_base64(figures["timeseries"]), "walkers per minute at each chokepoint through the day"),
        "<h2>Shopping-centre footfall</h2>",
        _figure(png_base64(figures["footfall"]), "arrivals per hour at each shopping centre"),
        "<h2>Ridership and sales</h2>",
        "<p>Shoppers' share of each line's station events is calibrated on the ridership rise when ViNA WALK "
        "opened in 2002 (Odakyu +30 %, Sotetsu +20 %, JR +50 %): "
        + ", ".join(f"{html.escape(line_name(line))} {100 * shopping_share(line):.0f} %"
                    for line in ("odakyu", "sotetsu", "jr"))
        + ". Station events (boardings plus alightings) that depend on shopping in this run: "
        + ", ".join(f"{html.escape(line_name(line))} {number(n)}" for line, n in events.items())
        + f". A 10 % rise in footfall would bring about "
        f"{number(sum(ridership_at_stake(k['station_events'], 10.0).values()))} more boardings "
        "plus alightings a day.</p>",
        "<h2>Offers</h2>",
        _offers_table(sim),
        "<h2>Choice model calibration</h2>",
        html_table(calibration, ["programme", "where", "years", "reward", "shift", "observed", "fitted"]),
        "<p>What a 100-yen offer does at Ebina (acceptance probability by purpose):</p>",
        html_table(coupons, ["offer", "change", "commute in", "commute out", "shopping", "leisure", "home"]),
        f"<p class='note'>{html.escape(OSM_ATTRIBUTION)} (points of interest, 2013). "
        f"{html.escape(RAIL_ATTRIBUTION)}. The street grid is schematic; people are synthetic; sales are "
        "an estimate from footfall, purchase rate and average spend.</p>",
        "</body></html>",
    ]
    return "\n".join(parts)
