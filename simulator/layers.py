"""The shipped map layers as GeoDataFrames (WGS84): rail lines, points of interest, car-share stations."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd

from simulator.paths import CARSHARE_CSV, POIS_GEOJSON, RAIL_POLYLINES


def rail_lines() -> gpd.GeoDataFrame:
    """Odakyu, Sotetsu and JR alignments, one row per segment between stations, with a ``line`` column."""
    frames = [gpd.read_file(path).assign(line=line) for line, path in RAIL_POLYLINES.items()]
    return gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), crs="EPSG:4326")


def points_of_interest() -> gpd.GeoDataFrame:
    """The 2013 OpenStreetMap points of interest near the station (ODbL)."""
    return gpd.read_file(POIS_GEOJSON)


def carshare_stations() -> gpd.GeoDataFrame:
    """Car-share stations with ``name``, ``code`` and ``ev`` (1 = electric cars)."""
    df = pd.read_csv(CARSHARE_CSV)
    return gpd.GeoDataFrame(df, geometry=gpd.points_from_xy(df["lon"], df["lat"]), crs="EPSG:4326")
