"""The places a rider can choose in the app: the station's gates, the two shopping centres and the office
districts, with their positions (stations and malls real, rounded to about 10 m; offices the centres of their
districts). The dispatcher snaps each position to its road network."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RidePoint:
    key: str
    name_ja: str
    name_en: str
    lat: float
    lon: float


RIDE_POINTS: dict[str, RidePoint] = {p.key: p for p in (
    RidePoint("odakyu_sotetsu_east", "小田急・相鉄 海老名駅（東口）", "Odakyu / Sotetsu Ebina (east)",
              35.452639, 139.390833),
    RidePoint("jr_west", "JR 海老名駅（西口）", "JR Ebina (west)", 35.454306, 139.389306),
    RidePoint("vinawalk", "ビナウォーク", "ViNA WALK", 35.452000, 139.393472),
    RidePoint("lalaport", "ららぽーと海老名", "LaLaport Ebina", 35.45528, 139.38917),
    RidePoint("chuo", "中央（東側のオフィス街）", "Chuo offices (east)", 35.4490, 139.3950),
    RidePoint("kokubu", "国分（東側のオフィス街）", "Kokubu offices (east)", 35.4560, 139.3975),
    RidePoint("ekimae_west", "駅前（西側のオフィス街）", "Ekimae offices (west)", 35.4560, 139.3865),
)}
