"""A local metric frame around Ebina station, so the schematic network can be laid out in metres.

An equirectangular projection is exact enough over a few kilometres (error well under 1 m) and keeps
the generator free of a projection library.
"""

from __future__ import annotations

import math

ORIGIN_LAT = 35.4525
ORIGIN_LON = 139.3910
M_PER_DEG_LAT = 110_950.0
M_PER_DEG_LON = 111_320.0 * math.cos(math.radians(ORIGIN_LAT))

# What every map and report shows beside the network.
SCHEMATIC_LABEL = "schematic walking network (not surveyed streets)"
OSM_ATTRIBUTION = "© OpenStreetMap contributors (ODbL 1.0)"
RAIL_ATTRIBUTION = ("駅データ: Seo-4d696b75/station_database (CC BY-SA 4.0); "
                    "路線形状は「国土数値情報（鉄道データ）」（国土交通省）を加工")


def to_xy(lat: float, lon: float) -> tuple[float, float]:
    """Metres east and north of the origin."""
    return (lon - ORIGIN_LON) * M_PER_DEG_LON, (lat - ORIGIN_LAT) * M_PER_DEG_LAT


def to_latlon(x: float, y: float) -> tuple[float, float]:
    """Inverse of :func:`to_xy`."""
    return ORIGIN_LAT + y / M_PER_DEG_LAT, ORIGIN_LON + x / M_PER_DEG_LON
