"""Where the simulator's shipped data lives inside the repository (never outside it)."""

from __future__ import annotations

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
DATA_OSM = REPO_ROOT / "data" / "osm"
DATA_RAIL = REPO_ROOT / "data" / "rail"
DATA_SIM = REPO_ROOT / "data" / "sim"
SCENARIO_DIR = Path(__file__).resolve().parent / "scenarios"

SCHEMATIC_OSM = DATA_OSM / "ebina_schematic_walk.osm"
FETCHED_GRAPHML = DATA_OSM / "ebina_walk_osm.graphml"
POIS_GEOJSON = DATA_OSM / "ebina_pois_osm2013_r2500m.geojson"
CARSHARE_CSV = DATA_SIM / "carshare_stations_ebina.csv"
RAIL_POLYLINES = {
    "odakyu": DATA_RAIL / "polyline_25001.geojson",
    "sotetsu": DATA_RAIL / "polyline_29001.geojson",
    "jr": DATA_RAIL / "polyline_11309.geojson",
}
DEFAULT_REPORT_ROOT = REPO_ROOT / "reports" / "sim"
