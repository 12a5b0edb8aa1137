"""The charging service's settings: charger sites, tariffs, horizon. Defaults follow the Ebina community."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal


@dataclass(frozen=True)
class ChargerSite:
    """A car park with named chargers of one power, and what its connection leaves for charging."""

    id: str
    chargers: tuple[str, ...]
    charger_kw: Decimal
    limit_kw: Decimal
    soft_kw: Decimal | None = None     # grid import for charging above this pays the peak penalty
    fee_yen_per_kwh: Decimal = Decimal("0")  # the site's fee for the charger's service, per metered kWh
    # Chargers that can feed energy back. OCPP 1.6J, which the charger gateway speaks, has no discharge
    # set-point (a charging profile's limit is a charging rate), so no site is bidirectional by default and
    # the plan never sells a V2G car's energy that no charger could deliver.
    bidirectional: bool = False

    def __post_init__(self) -> None:
        if not self.chargers or len(set(self.chargers)) != len(self.chargers):
            raise ValueError(f"site {self.id!r}: chargers must be a non-empty list of distinct ids")
        if self.charger_kw <= 0 or self.limit_kw <= 0:
            raise ValueError(f"site {self.id!r}: charger_kw and limit_kw must be positive")
        if self.fee_yen_per_kwh < 0:
            raise ValueError(f"site {self.id!r}: fee_yen_per_kwh must not be negative")


def _tou(night: str, day: str, midday: str, evening: str) -> tuple[Decimal, ...]:
    """24 hourly prices (local time): night 0-7, day 7-10 and 15-17, midday 10-15, evening 17-21, night 21-24."""
    hours = []
    for h in range(24):
        hours.append(night if h < 7 or h >= 21 else midday if 10 <= h < 15 else evening if 17 <= h < 21 else day)
    return tuple(Decimal(x) for x in hours)


# Charging fees (on top of the energy, which each car buys on the market): free at the office for its staff,
# a small fee at the shopping centre's car park, a public fast-charger fee at the station.
EBINA_SITES = (
    ChargerSite("office-park", tuple(f"office-park/cp-{k:02d}" for k in range(1, 9)), Decimal("6"), Decimal("36")),
    ChargerSite("lalaport-ebina", tuple(f"lalaport-ebina/cp-{k:02d}" for k in range(1, 7)), Decimal("6"),
                Decimal("30"), fee_yen_per_kwh=Decimal("5")),
    ChargerSite("ebina-station-ev", tuple(f"ebina-station-ev/cp-{k:02d}" for k in range(1, 3)), Decimal("20"),
                Decimal("40"), fee_yen_per_kwh=Decimal("10")),
)


@dataclass(frozen=True)
class ChargingSettings:
    """How the charging service plans.

    - ``buy_yen`` / ``sell_yen``: 24 hourly prices (local time) the planner expects from the market for a
      kWh bought or sold (defaults: the grid's 26.2 retail with a cheaper midday when the community's PV
      sells, 7.0 buy-back with a better midday and evening);
    - ``order_margin_yen``: how far above the expected price a charging order's limit goes;
    - ``horizon_slots``: 48 = 24 h ahead; bookings start at the first slot the market still takes orders for.
    """

    sites: tuple[ChargerSite, ...] = EBINA_SITES
    horizon_slots: int = 48
    gate_closure: timedelta = timedelta(minutes=5)
    timezone: str = "Asia/Tokyo"
    buy_yen: tuple[Decimal, ...] = field(default_factory=lambda: _tou("20.00", "26.20", "18.00", "29.00"))
    sell_yen: tuple[Decimal, ...] = field(default_factory=lambda: _tou("7.00", "7.00", "9.00", "15.00"))
    order_margin_yen: Decimal = Decimal("2.00")
    timer_interval_s: float = 30.0
    producer: str = "charging"

    def __post_init__(self) -> None:
        if self.horizon_slots < 48:
            raise ValueError("horizon_slots must cover at least 24 h (48 slots)")
        if len(self.buy_yen) != 24 or len(self.sell_yen) != 24:
            raise ValueError("buy_yen and sell_yen need 24 hourly prices")
        ids = [s.id for s in self.sites]
        if len(set(ids)) != len(ids):
            raise ValueError("site ids must be unique")
