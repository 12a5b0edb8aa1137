"""Generate the schematic drive network of the Ebina area as OSM XML (``data/osm/ebina_schematic_drive.osm``).

Like the walking network, it is built from real anchors because no surveyed street extract ships: the
station rotaries east and west, ViNA WALK and LaLaport (parcel depots), the 30 car-share stations and the
real rail alignments, which cars cross only on the main roads (every 900 m). Streets are a 300 m grid:
main roads (secondary, 40 km/h) every third line, residential streets (30 km/h) between. Deterministic.

    .venv/bin/python -m services.mobility.adapters.drive_build
"""

from __future__ import annotations

import logging
import math
from pathlib import Path
from xml.sax.saxutils import quoteattr

from shapely.geometry import LineString

from simulator.geo import OSM_ATTRIBUTION, to_latlon, to_xy
from simulator.layers import carshare_stations, rail_lines
from simulator.places import MALLS

log = logging.getLogger(__name__)

OUT = Path(__file__).resolve().parents[3] / "data" / "osm" / "ebina_schematic_drive.osm"
STEP_M, HALF_M = 300.0, 2400.0
MAIN_EVERY = 3
LABEL = "schematic drive network (not surveyed streets)"
ROTARIES = {"rotary_east": ("海老名駅東口ロータリー (east rotary)", 35.4518, 139.3925),
            "rotary_west": ("海老名駅西口ロータリー (west rotary)", 35.4552, 139.3880)}


def build() -> tuple[dict[int, tuple[float, float, dict[str, str]]], list[tuple[list[int], dict[str, str]]]]:
    rails = [LineString([to_xy(lat, lon) for lon, lat in g.coords]) for g in rail_lines().geometry]
    rails = [r for r in rails if r.distance(LineString([(-1, 0), (1, 0)])) < 4000]
    nodes: dict[int, tuple[float, float, dict[str, str]]] = {}
    ways: list[tuple[list[int], dict[str, str]]] = []
    steps = int(HALF_M // STEP_M)
    grid: dict[tuple[int, int], int] = {}
    for i in range(-steps, steps + 1):
        for j in range(-steps, steps + 1):
            grid[(i, j)] = len(nodes) + 1
            nodes[grid[(i, j)]] = (i * STEP_M, j * STEP_M, {})
    for (i, j), a in grid.items():
        for di, dj in ((1, 0), (0, 1)):
            b = grid.get((i + di, j + dj))
            if b is None:
                continue
            line = j if di else i
            main = line % MAIN_EVERY == 0
            seg = LineString([nodes[a][:2], nodes[b][:2]])
            if any(seg.intersects(r) for r in rails):
                if not main:
                    continue
                tags = {"highway": "secondary", "maxspeed": "40", "bridge": "yes", "name": "rail overpass"}
            else:
                tags = {"highway": "secondary", "maxspeed": "40"} if main else {"highway": "residential",
                                                                                "maxspeed": "30"}
            ways.append(([a, b], tags))
    anchors = [(k, name, lat, lon, {"amenity": "taxi", "name": name, "ref": k})
               for k, (name, lat, lon) in ROTARIES.items()]
    anchors += [(m.key, m.name, m.lat, m.lon, {"shop": "mall", "name": m.name, "depot": "parcels",
                                                     "ref": m.key})
                for m in MALLS.values()]
    for row in carshare_stations().itertuples():
        tags = {"amenity": "car_sharing", "ref": str(row.code), "name": str(row.name)}
        if int(row.ev) == 1:
            tags["charging"] = "yes"
        anchors.append((str(row.code), str(row.name), float(row.lat), float(row.lon), tags))
    for _key, _name, lat, lon, tags in anchors:
        x, y = to_xy(lat, lon)
        if abs(x) > HALF_M or abs(y) > HALF_M:
            continue
        nid = len(nodes) + 1
        nodes[nid] = (x, y, tags)
        ranked = sorted(grid.values(), key=lambda g: math.hypot(nodes[g][0] - x, nodes[g][1] - y))
        for g in ranked:
            if not any(LineString([(x, y), nodes[g][:2]]).intersects(r) for r in rails):
                ways.append(([nid, g], {"highway": "service", "maxspeed": "20"}))
                break
    return nodes, ways


def write(path: Path = OUT) -> Path:
    nodes, ways = build()
    lines = ["<?xml version='1.0' encoding='UTF-8'?>",
             '<osm version="0.6" generator="citymatch drive_build (schematic)" '
             'attribution="https://www.openstreetmap.org/copyright" '
             'license="https://opendatacommons.org/licenses/odbl/1-0/">',
             f"\t<note>{LABEL}: Ebina area. Street grid is schematic; rotaries, malls, car-share stations and rail "
             f"barriers are at real positions. {OSM_ATTRIBUTION}.</note>"]
    for nid, (x, y, tags) in nodes.items():
        lat, lon = to_latlon(x, y)
        head = f'\t<node id="{nid}" lat="{lat:.7f}" lon="{lon:.7f}" version="1"'
        if not tags:
            lines.append(head + "/>")
            continue
        lines.append(head + ">")
        lines += [f"\t\t<tag k={quoteattr(k)} v={quoteattr(v)}/>" for k, v in sorted(tags.items())]
        lines.append("\t</node>")
    for wid, (refs, tags) in enumerate(ways, start=1):
        lines.append(f'\t<way id="{wid}" version="1">')
        lines += [f'\t\t<nd ref="{r}"/>' for r in refs]
        lines += [f"\t\t<tag k={quoteattr(k)} v={quoteattr(v)}/>" for k, v in sorted(tags.items())]
        lines.append("\t</way>")
    lines.append("</osm>")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    log.info("wrote %s: %d nodes, %d ways", path, len(nodes), len(ways))
    return path


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO)
    write()
