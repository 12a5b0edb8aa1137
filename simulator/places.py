"""Named places of the station area with real positions, and the chokepoints planners watch.

Positions of stations and shopping centres are real (rounded to about 10 m); offices are schematic
clusters. Everything is snapped to the nearest node or link of whichever network is loaded, so the same
places serve the shipped schematic network and a real OSM download.
"""

from __future__ import annotations

from dataclasses import dataclass

LINES = ("odakyu", "sotetsu", "jr")


@dataclass(frozen=True)
class Place:
    key: str
    name: str
    lat: float
    lon: float
    kind: str  # gate | mall | office
    name_ja: str = ""


@dataclass(frozen=True)
class Chokepoint:
    """A walkway segment whose load and level of service are reported; ``width_m`` is its clear width."""

    key: str
    name: str
    lat: float
    lon: float
    width_m: float
    name_ja: str = ""


STATION_POSITIONS = {
    "odakyu": (35.452639, 139.390833),
    "sotetsu": (35.452778, 139.391389),
    "jr": (35.454306, 139.389306),
}

GATES = {
    "odakyu": Place("gate_odakyu", "Odakyu Ebina gates", *STATION_POSITIONS["odakyu"], "gate", "小田急海老名駅改札"),
    "sotetsu": Place("gate_sotetsu", "Sotetsu Ebina gates", *STATION_POSITIONS["sotetsu"], "gate", "相鉄海老名駅改札"),
    "jr": Place("gate_jr", "JR Ebina gates", *STATION_POSITIONS["jr"], "gate", "JR海老名駅改札"),
}

MALLS = {
    "vinawalk": Place("vinawalk", "ViNA WALK (east)", 35.452000, 139.393472, "mall", "ビナウォーク"),
    "lalaport": Place("lalaport", "LaLaport Ebina (west)", 35.45528, 139.38917, "mall", "ららぽーと海老名"),
}

# Schematic office clusters: east (city centre side) and west (new town beside LaLaport).
OFFICES = (
    Place("office_east_centre", "offices east, Chuo", 35.4490, 139.3950, "office"),
    Place("office_east_north", "offices east, Kokubu", 35.4560, 139.3975, "office"),
    Place("office_west", "offices west, Ekimae", 35.4560, 139.3865, "office"),
)

# Midpoints of the schematic chokepoint links; on a real network the nearest link is taken.
CHOKEPOINTS = (
    Chokepoint("concourse", "Odakyu/Sotetsu concourse", 35.452446, 139.391314, 14.0, "小田急・相鉄コンコース"),
    Chokepoint("odakyu_gates", "Odakyu gate line", 35.452606, 139.390983, 8.0, "小田急線改札"),
    Chokepoint("sotetsu_gates", "Sotetsu gate line", 35.452675, 139.391261, 6.0, "相鉄線改札"),
    Chokepoint("free_passage", "free passage (east-west)", 35.453469, 139.390035, 12.0, "東西自由通路"),
    Chokepoint("jr_gates", "JR gate line", 35.454192, 139.389409, 5.0, "JR線改札"),
    Chokepoint("east_deck", "east deck to ViNA WALK", 35.452230, 139.391855, 10.0, "東口デッキ"),
    Chokepoint("west_deck", "west deck to LaLaport", 35.454821, 139.388987, 10.0, "西口デッキ"),
)
