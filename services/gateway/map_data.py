"""The station-area map the dashboard draws, from the project's own data files (never a tile server).

Walkways and chokepoints come from the OSM XML of the walking network (``data/osm``), the rail lines from
the national rail polylines (``data/rail``). Read once per process; the result is plain GeoJSON.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from functools import cache
from pathlib import Path
from typing import Any

from shared.settings import REPO_ROOT

WALK_NETWORK = REPO_ROOT / "data" / "osm" / "ebina_schematic_walk.osm"
RAIL_LINES = {"odakyu": "polyline_25001.geojson", "sotetsu": "polyline_29001.geojson", "jr": "polyline_11309.geojson"}
RAIL_DIR = REPO_ROOT / "data" / "rail"
CHOKEPOINT_TAG = "citymatch:chokepoint"
ATTRIBUTION = ("© OpenStreetMap contributors (ODbL 1.0); 路線形状は「国土数値情報（鉄道データ）」（国土交通省）を加工; "
               "schematic walking network (not surveyed streets)")


def _inside(lon: float, lat: float, bbox: tuple[float, float, float, float]) -> bool:
    return bbox[0] <= lon <= bbox[2] and bbox[1] <= lat <= bbox[3]


def _walkways(path: Path) -> tuple[list[dict[str, Any]], tuple[float, float, float, float]]:
    root = ET.parse(path).getroot()
    nodes = {n.get("id"): (float(n.get("lon")), float(n.get("lat"))) for n in root.iter("node")}
    features = []
    for way in root.iter("way"):
        tags = {t.get("k"): t.get("v") for t in way.iter("tag")}
        if "highway" not in tags:
            continue
        coords = [nodes[nd.get("ref")] for nd in way.iter("nd") if nd.get("ref") in nodes]
        props = {"kind": tags["highway"], "width_m": float(tags.get("width", 0) or 0), "name": tags.get("name", ""),
                 "name_ja": tags.get("name:ja", "")}
        if CHOKEPOINT_TAG in tags:
            props["chokepoint"] = tags[CHOKEPOINT_TAG]
        features.append({"type": "Feature", "properties": props,
                         "geometry": {"type": "LineString", "coordinates": coords}})
    lons = [c[0] for c in nodes.values()]
    lats = [c[1] for c in nodes.values()]
    stations = [{"type": "Feature", "properties": {"kind": "station", "name": tags.get("name", "")},
                 "geometry": {"type": "Point", "coordinates": nodes[n.get("id")]}}
                for n in root.iter("node")
                if (tags := {t.get("k"): t.get("v") for t in n.iter("tag")}).get("railway") == "station"]
    return features + stations, (min(lons), min(lats), max(lons), max(lats))


def _rails(bbox: tuple[float, float, float, float]) -> list[dict[str, Any]]:
    out = []
    for line, name in RAIL_LINES.items():
        data = json.loads((RAIL_DIR / name).read_text(encoding="utf-8"))
        for feature in data["features"]:
            geom = feature["geometry"]
            parts = geom["coordinates"] if geom["type"] == "MultiLineString" else [geom["coordinates"]]
            for part in parts:
                kept = [c for c in part if _inside(c[0], c[1], bbox)]
                if len(kept) >= 2:
                    out.append({"type": "Feature", "properties": {"kind": "rail", "line": line},
                                "geometry": {"type": "LineString", "coordinates": kept}})
    return out


@cache
def station_area_map(path: Path = WALK_NETWORK) -> dict[str, Any]:
    """GeoJSON of the walkways (chokepoints marked), stations and rail lines, with its bounds and attribution."""
    walk, bbox = _walkways(path)
    return {"type": "FeatureCollection", "bbox": list(bbox), "attribution": ATTRIBUTION,
            "features": _rails(bbox) + walk}


@cache
def named_places(path: Path = WALK_NETWORK) -> dict[str, tuple[float, float]]:
    """``(lon, lat)`` of each named node of the walking network (stations, malls, offices, car-share stations),
    so a layer drawn over the map puts a place where the map has it."""
    root = ET.parse(path).getroot()
    out: dict[str, tuple[float, float]] = {}
    for n in root.iter("node"):
        name = next((t.get("v") for t in n.iter("tag") if t.get("k") == "name"), None)
        if name:
            out.setdefault(name, (float(n.get("lon") or 0), float(n.get("lat") or 0)))
    return out


def chokepoints(path: Path = WALK_NETWORK) -> dict[str, dict[str, Any]]:
    """Each chokepoint of the map: its names and clear width (m)."""
    return {f["properties"]["chokepoint"]: {k: f["properties"][k] for k in ("name", "name_ja", "width_m")}
            for f in station_area_map(path)["features"] if f["properties"].get("chokepoint")}
