"""Every assumption of the Higashi-Fuji community simulation, in one frozen dataclass with its source.

The seed gives the community's make-up (1 office, 20 homes of which 4 with batteries, 9 plug-in hybrids,
PV at homes and the office, commuters charging at the office) and the tariffs its figures imply (grid
retail 26.2 yen/kWh = the 21.6 average purchase price + 4.6; buy-back 7.0 = the 20.0 average sale price
- 13.0; wheeling 10 yen/kWh = its 26 - 16 yen). Everything else (device sizes, loads, trips) is an
assumption, named here with a reason, and shown in the report's assumptions table. Nothing is fitted to
the seed's results.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class HomeGroup:
    """``count`` identical homes: PV size, an optional home battery, an optional plug-in hybrid."""

    name: str
    count: int
    daily_load_kwh: float
    pv_kwp: float = 0.0
    battery_kwh: float = 0.0
    battery_kw: float = 0.0
    phev: bool = False
    profile: str = "economy"


DEFAULT_HOMES = (
    HomeGroup("pv+battery", 4, 10.0, pv_kwp=4.5, battery_kwh=9.8, battery_kw=3.0),
    HomeGroup("pv+phev", 5, 10.0, pv_kwp=4.0, phev=True, profile="price_first"),
    HomeGroup("phev", 4, 9.0, phev=True, profile="price_first"),
    HomeGroup("pv", 3, 10.0, pv_kwp=4.0, profile="green"),
    HomeGroup("plain", 4, 9.0),
)


@dataclass(frozen=True)
class CommunityParams:
    """The community, its tariffs, its cars and the month simulated; see :func:`describe` for sources."""

    # what is simulated
    month: int = 5
    calendar_year: int = 2019
    days: int | None = None
    first_day: int = 1
    seed: int = 20190617
    # tariffs (yen/kWh)
    home_retail: float = 26.2
    office_retail: float = 20.0
    buyback: float = 7.0
    wheeling_fee: float = 10.0
    post_fit_floor: float = 10.0
    # the office
    office_daily_load_kwh: float = 200.0
    office_weekend_share: float = 0.25
    office_pv_kwp: float = 60.0
    office_chargers: int = 9
    charger_kw: float = 3.0
    # homes
    homes: tuple[HomeGroup, ...] = field(default=DEFAULT_HOMES)
    battery_soc0_pct: float = 50.0
    load_day_sigma: float = 0.15
    # PV
    performance_ratio: float = 0.80
    # the plug-in hybrids
    phev_battery_kwh: float = 8.8
    phev_charge_kw: float = 3.0
    phev_discharge_kw: float = 2.0
    phev_kwh_per_km: float = 0.13
    phev_soc0_pct: float = 50.0
    phev_reserve_kwh: float = 0.5
    v2g: bool = True
    ev_preference: str = "cheap"
    v2g_from_hour: int = 17
    commute_km: float = 12.0
    leave_home_hour: float = 7.5
    leave_office_hour: float = 18.0
    trip_jitter_slots: int = 1
    weekend_trip_km: float = 16.0
    weekend_out_hours: tuple[float, float] = (10.0, 12.0)
    # the platforms
    pricing: str = "pay-as-clear"
    hard_rock_export: bool = False

    def __post_init__(self) -> None:
        if not 1 <= self.month <= 12:
            raise ValueError(f"month must be 1..12, not {self.month}")
        if not 1 <= self.first_day <= 28:
            raise ValueError(f"first_day must be 1..28, not {self.first_day}")
        if self.days is not None and self.days < 1:
            raise ValueError("days must be at least 1")
        if min(self.home_retail, self.office_retail, self.buyback, self.wheeling_fee) < 0:
            raise ValueError("tariffs and the wheeling fee must not be negative")
        if self.buyback > min(self.home_retail, self.office_retail):
            raise ValueError("the buy-back price must not exceed a retail tariff")
        if sum(g.count for g in self.homes) < 1:
            raise ValueError("homes: the community needs at least one home")
        if self.ev_preference not in ("cheap", "green"):
            raise ValueError(f"ev_preference must be cheap or green, not {self.ev_preference!r}")
        if self.office_chargers < 0:
            raise ValueError("office_chargers must not be negative")

    @property
    def n_homes(self) -> int:
        return sum(g.count for g in self.homes)

    @property
    def n_batteries(self) -> int:
        return sum(g.count for g in self.homes if g.battery_kwh > 0)

    @property
    def n_phev(self) -> int:
        return sum(g.count for g in self.homes if g.phev)

    @property
    def trip_kwh(self) -> float:
        return self.commute_km * self.phev_kwh_per_km

    def with_overrides(self, **values: Any) -> CommunityParams:
        if "homes" in values:
            values["homes"] = tuple(h if isinstance(h, HomeGroup) else HomeGroup(**h) for h in values["homes"])
        if "weekend_out_hours" in values:
            values["weekend_out_hours"] = tuple(values["weekend_out_hours"])
        return replace(self, **values)

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, indent=2)


def load_params(path: str | Path | None = None, **overrides: Any) -> CommunityParams:
    """The defaults, then a JSON file's values (same names as the fields), then keyword overrides."""
    params = CommunityParams()
    if path is not None:
        values = json.loads(Path(path).read_text(encoding="utf-8"))
        known = {f.name for f in fields(CommunityParams)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"{path}: unknown parameter(s) {', '.join(unknown)}")
        params = params.with_overrides(**values)
    return params.with_overrides(**overrides) if overrides else params


SOURCES: dict[str, tuple[str, str, str]] = {
    # name: (unit, English note, Japanese label)
    "month": ("", "month of the standard year simulated (May: long days, few rainy-season days)", "対象月"),
    "calendar_year": ("", "sets weekdays only (2019: the pilot's first year); public holidays count as workdays",
                      "曜日の基準年"),
    "seed": ("", "seed of the day-to-day load factors and trip times", "乱数シード"),
    "home_retail": ("yen/kWh", "seed: 21.6 average purchase price + 4.6 below the grid", "家庭の系統小売料金"),
    "office_retail": ("yen/kWh", "assumption: high-voltage contract (seed factor 3: 高圧電力), below home retail",
                      "事業所の高圧料金"),
    "buyback": ("yen/kWh", "seed: 20.0 average sale price - 13.0 above the grid", "系統の買取価格"),
    "wheeling_fee": ("yen/kWh", "seed: retail 26 with wheeling vs 16 without", "託送料金"),
    "post_fit_floor": ("yen/kWh", "seed: the post-FIT buy-back (卒FIT) as the realistic lowest trade price, for "
                       "the bounds only", "卒FIT売電価格(下限)"),
    "office_daily_load_kwh": ("kWh/day", "assumption: a small office, weekday; shape of services/market load.py",
                              "事業所の日負荷"),
    "office_weekend_share": ("", "assumption: weekend load as a share of a weekday's", "休日の負荷比"),
    "office_pv_kwp": ("kWp", "assumption: office roof PV", "事業所PV容量"),
    "office_chargers": ("", "assumption: one 200 V outlet per commuter car", "事業所の充電器数"),
    "charger_kw": ("kW", "200 V 16 A outlet", "充電器出力"),
    "homes": ("", "seed: 20 homes, 4 with batteries, 9 plug-in hybrids; PV sizes and which homes have PV "
              "are assumptions", "家庭の構成"),
    "battery_soc0_pct": ("%", "home batteries at the start of the month", "蓄電池の初期SOC"),
    "load_day_sigma": ("", "spread of each home's daily consumption (log-normal factor)", "日負荷のばらつき"),
    "performance_ratio": ("", "PV system losses (inverter, temperature, soiling) on horizontal irradiance",
                          "PVシステム係数"),
    "phev_battery_kwh": ("kWh", "Prius PHV (2017) traction battery", "PHEV電池容量"),
    "phev_charge_kw": ("kW", "on-board charger at 200 V", "PHEV充電出力"),
    "phev_discharge_kw": ("kW", "assumption: V2H/V2G unit power", "PHEV放電出力"),
    "phev_kwh_per_km": ("kWh/km", "Prius PHV EV range 68 km (JC08) on 8.8 kWh", "電費"),
    "phev_soc0_pct": ("%", "cars at the start of the month", "PHEVの初期SOC"),
    "phev_reserve_kwh": ("kWh", "charge kept beyond the next trip's need (driver first)", "出発時の予備"),
    "v2g": ("", "the cars may discharge (the pilot's PHEVs had V2G capability)", "V2G可否"),
    "ev_preference": ("", "the car agents' planner goal: cheap (the pilot's agents booked the cheapest times, "
                      "安価な時間に充電を予約) or green (most local PV; then V2G forgoes the green bonus)",
                      "充電計画の方針"),
    "v2g_from_hour": ("h", "agents expect a discharge to earn only from this hour to midnight (evening peak)",
                      "放電する時間帯の開始"),
    "commute_km": ("km", "assumption: one way, home to office", "通勤距離(片道)"),
    "leave_home_hour": ("h", "weekday departure to the office (plus 0..jitter slots)", "出勤時刻"),
    "leave_office_hour": ("h", "weekday departure home (plus 0..jitter slots)", "退勤時刻"),
    "trip_jitter_slots": ("slots", "random delay of each departure, 30 min each", "出発時刻のゆらぎ"),
    "weekend_trip_km": ("km", "assumption: weekend shopping trip, both ways", "休日の外出距離"),
    "weekend_out_hours": ("h", "weekend trip: leave and return", "休日の外出時間"),
    "pricing": ("", "market pricing rule (services/market)", "約定価格の決め方"),
    "hard_rock_export": ("", "independent microgrids feed nothing back (surplus is curtailed)",
                         "独立系統からの逆潮流"),
    "days": ("", "days simulated (None: to the end of the month)", "日数"),
    "first_day": ("", "first day of the month simulated", "開始日"),
}


def describe(params: CommunityParams) -> list[tuple[str, str, str, str, str]]:
    """(name, Japanese label, value, unit, source or reason) for every parameter, for the report."""
    out = []
    for f in fields(params):
        value = getattr(params, f.name)
        if f.name == "homes":
            text = "; ".join(f"{g.count} × {g.name} ({g.daily_load_kwh:g} kWh/day"
                             + (f", PV {g.pv_kwp:g} kWp" if g.pv_kwp else "")
                             + (f", battery {g.battery_kwh:g} kWh/{g.battery_kw:g} kW" if g.battery_kwh else "")
                             + (", PHEV" if g.phev else "") + f", {g.profile})" for g in value)
        else:
            text = str(value)
        unit, note, ja = SOURCES.get(f.name, ("", "", ""))
        out.append((f.name, ja, text, unit, note))
    return out
