"""How numbers and places read in reports: thousands separators, units, English names with Japanese beside.

Every page, table and printed summary formats through here, so one figure reads the same everywhere.
"""

from __future__ import annotations

import unicodedata

from simulator.places import MALLS

LINE_NAMES = {"odakyu": ("Odakyu", "小田急線"), "sotetsu": ("Sotetsu", "相鉄線"), "jr": ("JR Sagami line", "JR相模線")}
LEVEL_WORDS = {"A": "free flow", "B": "minor conflicts", "C": "some restriction", "D": "restricted speed",
               "E": "crowded, shuffling", "F": "standing crowd"}


def number(value: object, decimals: int | None = None) -> str:
    """1234567 -> '1,234,567'; 309.94 -> '309.9' (one decimal for floats unless told); text stays."""
    if isinstance(value, bool) or value is None or value == "":
        return "" if value in (None, "") else str(value)
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.{1 if decimals is None else decimals}f}"
    return str(value)


def with_unit(value: object, unit: str, decimals: int | None = None) -> str:
    """A number and its unit, '58,796,430 yen', '309.9 persons/min', '-0.6 %'; empty values stay empty."""
    if value in (None, "", "-"):
        return "" if value in (None, "") else "-"
    text = number(value, decimals)
    if not unit or not isinstance(value, int | float) or isinstance(value, bool):
        return text
    return f"{text} {unit}"


def bilingual(name: str, name_ja: str = "") -> str:
    """'Sotetsu gate line · 相鉄線改札': the English name with the Japanese one beside it."""
    return f"{name} · {name_ja}" if name_ja else name


def display_width(text: str) -> int:
    """Columns a terminal gives ``text``: Japanese characters take two."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def mall_name(key: str, japanese: bool = True) -> str:
    place = MALLS.get(key)
    if place is None:
        return key
    return bilingual(place.name, place.name_ja if japanese else "")


def line_name(key: str, japanese: bool = True) -> str:
    en, ja = LINE_NAMES.get(key, (key, ""))
    return bilingual(en, ja if japanese else "")


def level(los: str) -> str:
    """'E (crowded, shuffling)'."""
    return f"{los} ({LEVEL_WORDS[los]})" if los in LEVEL_WORDS else str(los)
