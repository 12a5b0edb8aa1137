"""Generate the schematic walking network of the Ebina station area as OSM XML.

No surveyed street extract of Ebina ships with the product, so this builds a plausible one from real
anchors: the three stations, the free passage and decks between them, ViNA WALK and LaLaport, the
car-share stations, the 2013 OSM points of interest, and the real rail alignments (which act as
barriers: a street may cross a line only at the station decks and at a few underpasses). The streets
themselves are a 150 m grid, so the result is labelled *schematic* wherever it is shown.

Run ``python -m simulator.network_build`` (or ``citymatch data build-network``) to regenerate
``data/osm/ebina_schematic_walk.osm``; the output is deterministic.
"""

from __future__ import annotations

import itertools
import logging
import math
from dataclasses import dataclass, field
from pathlib import Path
from xml.sax.saxutils import quoteattr

from shapely.geometry import LineString

from simulator.geo import OSM_ATTRIBUTION, SCHEMATIC_LABEL, to_latlon, to_xy
from simulator.layers import carshare_stations, points_of_interest, rail_lines
from simulator.paths import SCHEMATIC_OSM
from simulator.places import CHOKEPOINTS, GATES, MALLS, OFFICES

log = logging.getLogger(__name__)

GRID_STEP_M = 150.0
GRID_HALF_M = 1350.0
POI_RADIUS_M = 1300.0
CROSSING_EVERY = 5  # grid lines between two rail underpasses (5 x 150 m = 750 m)
KEEP_OFF_CORE_M = 70.0
KEEP_OFF_RAIL_M = 20.0
CHOKEPOINT_TAG = "citymatch:chokepoint"
CHOKEPOINT_NAMES_JA = {c.key: c.name_ja for c in CHOKEPOINTS}

POI_CATEGORIES = {"restaurant", "cafe", "convenience", "cinema", "library", "hotel", "atm", "police", "toilets"}
POI_AMENITY = {"convenience": ("shop", "convenience")}


@dataclass
class _Net:
    nodes: dict[int, tuple[float, float, dict[str, str]]] = field(default_factory=dict)
    ways: list[tuple[list[int], dict[str, str]]] = field(default_factory=list)
    next_id: int = 1

    def node(self, x: float, y: float, **tags: str) -> int:
        nid = self.next_id
        self.next_id += 1
        self.nodes[nid] = (x, y, dict(tags))
        return nid

    def way(self, refs: list[int], **tags: str) -> None:
        self.ways.append((refs, dict(tags)))

    def xy(self, nid: int) -> tuple[float, float]:
        return self.nodes[nid][0], self.nodes[nid][1]


def _rail_lines() -> list[LineString]:
    """The rail alignments near the station, in the local metric frame."""
    lines = []
    for geom in rail_lines().geometry:
        pts = [to_xy(lat, lon) for lon, lat in geom.coords]
        if any(abs(x) < 3000 and abs(y) < 3000 for x, y in pts):
            lines.append(LineString(pts))
    return lines


def _station_core(net: _Net) -> dict[str, int]:
    """Gates, concourse, free passage and decks: the part every station user walks through."""
    c: dict[str, int] = {}
    c["gate_odakyu"] = net.node(*to_xy(GATES["odakyu"].lat, GATES["odakyu"].lon),
                                railway="station", name="小田急 海老名駅 (Odakyu Ebina)")
    c["gate_sotetsu"] = net.node(*to_xy(GATES["sotetsu"].lat, GATES["sotetsu"].lon),
                                 railway="station", name="相鉄 海老名駅 (Sotetsu Ebina)")
    c["gate_jr"] = net.node(*to_xy(GATES["jr"].lat, GATES["jr"].lon),
                            railway="station", name="JR 海老名駅 (JR Ebina)")
    c["hub_east"] = net.node(12.0, 8.0, name="east concourse")
    c["exit_east"] = net.node(45.0, -20.0, name="east exit")
    c["deck_east_1"] = net.node(110.0, -40.0)
    c["deck_east_2"] = net.node(170.0, -50.0)
    c["vinawalk"] = net.node(*to_xy(MALLS["vinawalk"].lat, MALLS["vinawalk"].lon),
                             shop="mall", name="ViNA WALK")
    c["passage_1"] = net.node(-60.0, 75.0, name="free passage")
    c["passage_2"] = net.node(-115.0, 140.0, name="free passage")
    c["hub_jr"] = net.node(-135.0, 175.0, name="JR concourse")
    c["deck_west_1"] = net.node(-185.0, 235.0, name="west exit")
    c["deck_west_2"] = net.node(-180.0, 280.0)
    c["lalaport"] = net.node(*to_xy(MALLS["lalaport"].lat, MALLS["lalaport"].lon),
                             shop="mall", name="ららぽーと海老名 (LaLaport Ebina)")

    def link(a: str, b: str, width: float, kind: str = "footway", chokepoint: str | None = None,
             **extra: str) -> None:
        tags = {"highway": kind, "width": f"{width:g}", **extra}
        if chokepoint:
            tags[CHOKEPOINT_TAG] = chokepoint
            tags["name:ja"] = CHOKEPOINT_NAMES_JA[chokepoint]
        net.way([c[a], c[b]], **tags)

    link("gate_odakyu", "hub_east", 8, "corridor", "odakyu_gates", indoor="yes", name="Odakyu gate line")
    link("gate_sotetsu", "hub_east", 6, "corridor", "sotetsu_gates", indoor="yes", name="Sotetsu gate line")
    link("hub_east", "exit_east", 14, "corridor", "concourse", indoor="yes", name="station concourse")
    link("exit_east", "deck_east_1", 10, "footway", "east_deck", bridge="yes", layer="1", name="east deck")
    link("deck_east_1", "deck_east_2", 10, "footway", bridge="yes", layer="1", name="east deck")
    link("deck_east_2", "vinawalk", 8, "footway", bridge="yes", layer="1", name="ViNA WALK deck")
    link("hub_east", "passage_1", 12, "footway", bridge="yes", layer="1", name="free passage")
    link("passage_1", "passage_2", 12, "footway", "free_passage", bridge="yes", layer="1", name="free passage")
    link("passage_2", "hub_jr", 12, "footway", bridge="yes", layer="1", name="free passage")
    link("gate_jr", "hub_jr", 5, "corridor", "jr_gates", indoor="yes", name="JR gate line")
    link("hub_jr", "deck_west_1", 10, "footway", bridge="yes", layer="1", name="west deck")
    link("deck_west_1", "deck_west_2", 10, "footway", "west_deck", bridge="yes", layer="1", name="west deck")
    link("deck_west_2", "lalaport", 8, "footway", bridge="yes", layer="1", name="LaLaport deck")
    return c


def _grid(net: _Net, core: dict[str, int], rails: list[LineString]) -> dict[tuple[int, int], int]:
    """Street grid nodes, kept off the station core and off the tracks."""
    core_xy = [net.xy(n) for n in core.values()]
    steps = int(GRID_HALF_M // GRID_STEP_M)
    grid: dict[tuple[int, int], int] = {}
    for i in range(-steps, steps + 1):
        for j in range(-steps, steps + 1):
            x, y = i * GRID_STEP_M, j * GRID_STEP_M
            if any(math.hypot(x - cx, y - cy) < KEEP_OFF_CORE_M for cx, cy in core_xy):
                continue
            point = LineString([(x, y), (x + 0.01, y)])
            if any(r.distance(point) < KEEP_OFF_RAIL_M for r in rails):
                continue
            grid[(i, j)] = net.node(x, y)
    for (i, j), a in grid.items():
        for di, dj in ((1, 0), (0, 1)):
            b = grid.get((i + di, j + dj))
            if b is None:
                continue
            seg = LineString([net.xy(a), net.xy(b)])
            crosses = any(seg.intersects(r) for r in rails)
            line_index = j if di else i
            main = line_index % 3 == 0
            tags = {"highway": "secondary" if main else "residential", "width": "4" if main else "2.5"}
            if crosses:
                if line_index % CROSSING_EVERY or abs(line_index) < 3:
                    continue
                tags.update(tunnel="yes", layer="-1", name="rail underpass")
            net.way([a, b], **tags)
    return grid


def _connect(net: _Net, nid: int, rails: list[LineString], candidates: list[int], k: int = 2,
             width: str = "2.5") -> None:
    """Join ``nid`` to its ``k`` nearest candidates that can be reached without crossing a track."""
    x, y = net.xy(nid)
    ranked = sorted(candidates, key=lambda c: math.hypot(net.xy(c)[0] - x, net.xy(c)[1] - y))
    made = 0
    for c in ranked:
        if c == nid:
            continue
        seg = LineString([(x, y), net.xy(c)])
        if any(seg.intersects(r) for r in rails):
            continue
        net.way([nid, c], highway="footway", width=width)
        made += 1
        if made == k:
            return


def build_network() -> _Net:
    """The whole schematic network, in memory."""
    rails = _rail_lines()
    net = _Net()
    core = _station_core(net)
    grid = _grid(net, core, rails)
    grid_ids = list(grid.values())
    # Stairs from the decks and the free passage down to street level.
    for key in ("exit_east", "deck_east_1", "deck_east_2", "vinawalk", "passage_1",
                "deck_west_1", "deck_west_2", "lalaport"):
        _connect(net, core[key], rails, grid_ids, k=2, width="4")
    anchors = grid_ids + [core[k] for k in ("vinawalk", "lalaport", "deck_east_2", "deck_west_2")]
    for office in OFFICES:
        _connect(net, net.node(*to_xy(office.lat, office.lon), office="yes", name=office.name), rails, anchors)
    for row in carshare_stations().itertuples():
        x, y = to_xy(row.lat, row.lon)
        if abs(x) > GRID_HALF_M or abs(y) > GRID_HALF_M:
            continue
        tags = {"amenity": "car_sharing", "ref": str(row.code), "name": str(row.name)}
        if int(row.ev) == 1:
            tags["charging"] = "yes"
        _connect(net, net.node(x, y, **tags), rails, anchors, k=1)
    for poi in points_of_interest().itertuples():
        if poi.geometry.geom_type != "Point" or poi.category not in POI_CATEGORIES:
            continue
        x, y = to_xy(poi.geometry.y, poi.geometry.x)
        if math.hypot(x, y) > POI_RADIUS_M:
            continue
        key, value = POI_AMENITY.get(poi.category, ("amenity", poi.category))
        tags = {key: value, "source": "OpenStreetMap 2013"}
        if isinstance(poi.name, str) and poi.name:
            tags["name"] = poi.name
        _connect(net, net.node(x, y, **tags), rails, anchors, k=1)
    return _keep_component(net, core["hub_east"])


def _keep_component(net: _Net, seed: int) -> _Net:
    """Drop whatever the tracks cut off from the station (unreachable on foot in this schematic)."""
    adj: dict[int, set[int]] = {n: set() for n in net.nodes}
    for refs, _ in net.ways:
        for a, b in itertools.pairwise(refs):
            adj[a].add(b)
            adj[b].add(a)
    seen, stack = {seed}, [seed]
    while stack:
        for nb in adj[stack.pop()]:
            if nb not in seen:
                seen.add(nb)
                stack.append(nb)
    net.nodes = {n: v for n, v in net.nodes.items() if n in seen}
    net.ways = [(refs, tags) for refs, tags in net.ways if all(r in seen for r in refs)]
    return net


def write_osm_xml(net: _Net, path: Path) -> Path:
    """Write the network in the OSM XML 0.6 format that ``osmnx.graph_from_xml`` reads."""
    lines = [
        "<?xml version='1.0' encoding='UTF-8'?>",
        '<osm version="0.6" generator="citymatch simulator.network_build (schematic)" '
        'copyright="OpenStreetMap and contributors (points of interest, 2013)" '
        'attribution="https://www.openstreetmap.org/copyright" '
        'license="https://opendatacommons.org/licenses/odbl/1-0/">',
        f"\t<note>{SCHEMATIC_LABEL}: Ebina station area. Street grid is schematic; stations, decks, "
        f"malls, car-share stations and rail barriers are at real positions. Points of interest "
        f"{OSM_ATTRIBUTION}.</note>",
    ]
    lats = [to_latlon(x, y)[0] for x, y, _ in net.nodes.values()]
    lons = [to_latlon(x, y)[1] for x, y, _ in net.nodes.values()]
    lines.append(f'\t<bounds minlat="{min(lats):.7f}" minlon="{min(lons):.7f}" '
                 f'maxlat="{max(lats):.7f}" maxlon="{max(lons):.7f}"/>')
    for nid, (x, y, tags) in net.nodes.items():
        lat, lon = to_latlon(x, y)
        head = f'\t<node id="{nid}" lat="{lat:.7f}" lon="{lon:.7f}" version="1"'
        if not tags:
            lines.append(head + "/>")
            continue
        lines.append(head + ">")
        lines += [f"\t\t<tag k={quoteattr(k)} v={quoteattr(v)}/>" for k, v in sorted(tags.items())]
        lines.append("\t</node>")
    for wid, (refs, tags) in enumerate(net.ways, start=1):
        lines.append(f'\t<way id="{wid}" version="1">')
        lines += [f'\t\t<nd ref="{r}"/>' for r in refs]
        lines += [f"\t\t<tag k={quoteattr(k)} v={quoteattr(v)}/>" for k, v in sorted(tags.items())]
        lines.append("\t</way>")
    lines.append("</osm>")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def main(out: Path = SCHEMATIC_OSM) -> Path:
    net = build_network()
    path = write_osm_xml(net, out)
    log.info("wrote %s: %d nodes, %d ways", path, len(net.nodes), len(net.ways))
    return path


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO)
    main()
