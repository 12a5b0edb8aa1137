"""Logistics data as the city's eye: buying surges, stock-outs and waste in shops' daily sales and stock.

Each (shop, item) series is judged against its own recent past with robust statistics (median and MAD
over a trailing window), so a shop that always sells a lot is not a surge and one bad day does not move
the baseline. Rules, each returning an :class:`Alert` with its evidence:

- surge: units sold at least ``surge_ratio`` times the baseline median and a robust z above ``z_min``;
- stock-out: no stock at the end of the day while the baseline sells (demand left unmet);
- waste: sell-by write-offs above ``waste_share`` of what was stocked, and far above their own baseline;
- shift: the share of units sold at shops in home areas (against home plus office areas) far from its own
  recent level, i.e. demand moving from offices to homes or back (judged once a day is complete).

:func:`synthetic_stream` makes a seeded month of sales for tests and the benchmark, with surges, stock-outs
and waste injected where it says, so precision and recall can be measured against known truth.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MAD_SCALE = 1.4826  # MAD -> standard deviation of a normal


@dataclass(frozen=True)
class DayRecord:
    shop: str
    item: str
    day: int
    sold: int
    stock_end: int
    written_off: int
    area: str = "mixed"  # office | home | station | mixed


@dataclass(frozen=True)
class Alert:
    kind: str            # surge | stockout | waste | shift (shop "area:home", item "*")
    shop: str
    item: str
    day: int
    observed: float
    expected: float
    robust_z: float


@dataclass(frozen=True)
class Rules:
    window: int = 14
    min_history: int = 7
    surge_ratio: float = 3.0
    z_min: float = 4.0
    waste_share: float = 0.2
    shift_min: float = 0.07   # the home share must move at least this much (absolute) to be a shift


def robust(history: np.ndarray, floor: float = 1.0) -> tuple[float, float]:
    """Median and MAD (as a standard deviation), the MAD floored so a flat history does not make every
    small wobble infinitely surprising (1 unit for counts; shares pass a smaller floor)."""
    med = float(np.median(history))
    mad = float(np.median(np.abs(history - med))) * MAD_SCALE
    return med, max(mad, floor)


def judge(history: list[DayRecord], today: DayRecord, rules: Rules | None = None) -> list[Alert]:
    """The alerts for one (shop, item) day, judged only on that series' days before it (oldest first).

    The one place the three rules live: the batch :func:`detect` and the live service both call it.
    """
    rules = rules or Rules()
    if len(history) < rules.min_history:
        return []
    past = history[-rules.window:]
    sold = np.array([d.sold for d in past], dtype=float)
    waste = np.array([d.written_off for d in past], dtype=float)
    med, mad = robust(sold)
    d = today
    alerts: list[Alert] = []
    z = (d.sold - med) / mad
    if d.sold >= rules.surge_ratio * max(med, 1.0) and z >= rules.z_min:
        alerts.append(Alert("surge", d.shop, d.item, d.day, d.sold, med, z))
    if d.stock_end == 0 and med > 0:
        alerts.append(Alert("stockout", d.shop, d.item, d.day, 0, med, -med / mad))
    wmed, wmad = robust(waste)
    stocked = d.sold + d.written_off + d.stock_end
    wz = (d.written_off - wmed) / wmad
    if stocked and d.written_off / stocked > rules.waste_share and wz >= rules.z_min:
        alerts.append(Alert("waste", d.shop, d.item, d.day, d.written_off, wmed, wz))
    return alerts


def detect(records: list[DayRecord], rules: Rules | None = None) -> list[Alert]:
    """Alerts for every series, day by day, each judged only on the days before it."""
    series: dict[tuple[str, str], list[DayRecord]] = {}
    for r in sorted(records, key=lambda r: (r.shop, r.item, r.day)):
        series.setdefault((r.shop, r.item), []).append(r)
    alerts: list[Alert] = []
    for days in series.values():
        for k in range(len(days)):
            alerts.extend(judge(days[:k], days[k], rules))
    return alerts


SHIFT_SHOP, SHIFT_ITEM = "area:home", "*"


def home_share(day: list[DayRecord]) -> float | None:
    """The median over items of each item's units sold at home-area shops over its units sold at home- and
    office-area shops (None without both): a surge of one item at one shop moves one item's share, not the
    median, while people moving home move every item's."""
    units: dict[str, list[int]] = {}
    for r in day:
        if r.area in ("home", "office"):
            pair = units.setdefault(r.item, [0, 0])
            pair[r.area == "office"] += r.sold
    shares = [home / (home + office) for home, office in units.values() if home and office]
    return float(np.median(shares)) if shares else None


def judge_shift(history: list[float], share: float, day: int, rules: Rules | None = None) -> Alert | None:
    """A shift alert for one complete day's home share against the shares of the days before it."""
    rules = rules or Rules()
    if len(history) < rules.min_history:
        return None
    med, mad = robust(np.array(history[-rules.window:], dtype=float), floor=0.005)
    z = (share - med) / mad
    if abs(share - med) >= rules.shift_min and abs(z) >= rules.z_min:
        return Alert("shift", SHIFT_SHOP, SHIFT_ITEM, day, share, med, z)
    return None


def detect_shift(records: list[DayRecord], rules: Rules | None = None) -> list[Alert]:
    """Shift alerts over a stream of days (each day judged on the shares of the days before it)."""
    by_day: dict[int, list[DayRecord]] = {}
    for r in records:
        by_day.setdefault(r.day, []).append(r)
    shares: list[float] = []
    alerts: list[Alert] = []
    for day in sorted(by_day):
        share = home_share(by_day[day])
        if share is None:
            continue
        alert = judge_shift(shares, share, day, rules)
        if alert:
            alerts.append(alert)
        shares.append(share)
    return alerts


@dataclass(frozen=True)
class Truth:
    surges: frozenset[tuple[str, str, int]]
    stockouts: frozenset[tuple[str, str, int]]
    waste: frozenset[tuple[str, str, int]]
    # The days a shift should be reported: from its onset until a trailing median could have absorbed it.
    shift: frozenset[tuple[str, str, int]] = frozenset()


def synthetic_stream(seed: int, shops: int = 20, items: int = 10, days: int = 42, surges: int = 12,
                     wastes: int = 8, shift_from: int | None = None,
                     rules: Rules | None = None) -> tuple[list[DayRecord], Truth]:
    """Poisson daily sales with a weekly rhythm; injected surges (x2.5-8 for 1-3 days, so some are too small
    to tell from noise; stock runs out when a surge outruns the restock) and waste days (a third of the stock
    written off). Even-numbered shops stand in office areas, odd ones in home areas; with ``shift_from``,
    office demand falls to 70 % and home demand rises to 130 % from that day on (people working from home)."""
    rng = np.random.default_rng(seed)
    base = rng.gamma(3.0, 8.0, (shops, items)) + 2
    weekly = np.array([1.0, 0.9, 0.9, 1.0, 1.1, 1.4, 1.3])
    factor = np.ones((shops, items, days))
    surge_days, stockout_days, waste_days = set(), set(), set()
    for _ in range(surges):
        s, i = int(rng.integers(shops)), int(rng.integers(items))
        start, length = rng.integers(21, days - 3), rng.integers(1, 4)
        factor[s, i, start:start + length] *= rng.uniform(2.5, 8)
        surge_days |= {(f"shop-{s:02d}", f"item-{i:02d}", int(d)) for d in range(start, start + length)}
    waste_at = {(int(rng.integers(shops)), int(rng.integers(items)), int(rng.integers(21, days)))
                for _ in range(wastes)}
    if shift_from is not None:
        for s in range(shops):
            factor[s, :, shift_from:] *= 0.7 if s % 2 == 0 else 1.3
    records = []
    for s in range(shops):
        for i in range(items):
            restock = int(base[s, i] * 6)
            for d in range(days):
                demand = rng.poisson(base[s, i] * weekly[d % 7] * factor[s, i, d])
                sold = min(demand, restock)
                left = restock - sold
                off = 0
                key = (f"shop-{s:02d}", f"item-{i:02d}", d)
                if (s, i, d) in waste_at and left > 0:
                    off = max(1, (left + sold) // 3)
                    off = min(off, left)
                    left -= off
                    waste_days.add(key)
                if left == 0:
                    stockout_days.add(key)
                records.append(DayRecord(key[0], key[1], d, int(sold), int(left), int(off),
                                         "office" if s % 2 == 0 else "home"))
    window = (rules or Rules()).window
    shift = frozenset() if shift_from is None else frozenset(
        (SHIFT_SHOP, SHIFT_ITEM, d) for d in range(shift_from, min(days, shift_from + window // 2)))
    return records, Truth(frozenset(surge_days), frozenset(stockout_days), frozenset(waste_days), shift)


def precision_recall(alerts: list[Alert], kind: str, truth: frozenset[tuple[str, str, int]],
                     after_day: int = 0) -> tuple[float, float]:
    """Day-level precision and recall of one alert kind against the injected truth (days >= after_day)."""
    found = {(a.shop, a.item, a.day) for a in alerts if a.kind == kind and a.day >= after_day}
    real = {t for t in truth if t[2] >= after_day}
    hits = len(found & real)
    return (hits / len(found) if found else 1.0), (hits / len(real) if real else 1.0)
