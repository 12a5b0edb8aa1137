"""Logistics data as the city's eye: buying surges, stock-outs and waste in shops' daily sales and stock.

Each (shop, item) series is judged against its own recent past with robust statistics (median and MAD
over a trailing window), so a shop that always sells a lot is not a surge and one bad day does not move
the baseline. Rules, each returning an :class:`Alert` with its evidence:

- surge: units sold at least ``surge_ratio`` times the baseline median and a robust z above ``z_min``;
- stock-out: no stock at the end of the day while the baseline sells (demand left unmet);
- waste: sell-by write-offs above ``waste_share`` of what was stocked, and far above their own baseline.

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


@dataclass(frozen=True)
class Alert:
    kind: str            # surge | stockout | waste
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


def robust(history: np.ndarray) -> tuple[float, float]:
    med = float(np.median(history))
    mad = float(np.median(np.abs(history - med))) * MAD_SCALE
    return med, max(mad, 1.0)


def detect(records: list[DayRecord], rules: Rules | None = None) -> list[Alert]:
    """Alerts for every series, day by day, each judged only on the days before it."""
    rules = rules or Rules()
    series: dict[tuple[str, str], list[DayRecord]] = {}
    for r in sorted(records, key=lambda r: (r.shop, r.item, r.day)):
        series.setdefault((r.shop, r.item), []).append(r)
    alerts: list[Alert] = []
    for (shop, item), days in series.items():
        sold = np.array([d.sold for d in days], dtype=float)
        waste = np.array([d.written_off for d in days], dtype=float)
        for k in range(rules.min_history, len(days)):
            lo = max(0, k - rules.window)
            med, mad = robust(sold[lo:k])
            d = days[k]
            z = (d.sold - med) / mad
            if d.sold >= rules.surge_ratio * max(med, 1.0) and z >= rules.z_min:
                alerts.append(Alert("surge", shop, item, d.day, d.sold, med, z))
            if d.stock_end == 0 and med > 0:
                alerts.append(Alert("stockout", shop, item, d.day, 0, med, -med / mad))
            wmed, wmad = robust(waste[lo:k])
            stocked = d.sold + d.written_off + d.stock_end
            wz = (d.written_off - wmed) / wmad
            if stocked and d.written_off / stocked > rules.waste_share and wz >= rules.z_min:
                alerts.append(Alert("waste", shop, item, d.day, d.written_off, wmed, wz))
    return alerts


@dataclass(frozen=True)
class Truth:
    surges: frozenset[tuple[str, str, int]]
    stockouts: frozenset[tuple[str, str, int]]
    waste: frozenset[tuple[str, str, int]]


def synthetic_stream(seed: int, shops: int = 20, items: int = 10, days: int = 42, surges: int = 12,
                     wastes: int = 8) -> tuple[list[DayRecord], Truth]:
    """Poisson daily sales with a weekly rhythm; injected surges (x2.5-8 for 1-3 days, so some are too small
    to tell from noise; stock runs out when a surge outruns the restock) and waste days (a third of the stock
    written off)."""
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
                records.append(DayRecord(key[0], key[1], d, int(sold), int(left), int(off)))
    return records, Truth(frozenset(surge_days), frozenset(stockout_days), frozenset(waste_days))


def precision_recall(alerts: list[Alert], kind: str, truth: frozenset[tuple[str, str, int]],
                     after_day: int = 0) -> tuple[float, float]:
    """Day-level precision and recall of one alert kind against the injected truth (days >= after_day)."""
    found = {(a.shop, a.item, a.day) for a in alerts if a.kind == kind and a.day >= after_day}
    real = {t for t in truth if t[2] >= after_day}
    hits = len(found & real)
    return (hits / len(found) if found else 1.0), (hits / len(real) if real else 1.0)
