"""Logistics data as the city's eye, live: shops' days in, anomalies and the shared stock view out.

Every ``ShopDayReported`` (one shop, one item, one day) is judged against that series' own recent days by the
rules in :mod:`services.logistics.domain.anomalies` (the same function the batch report uses) and each alert goes
to ``city.anomalies`` with its evidence in words and numbers. The latest stock of each shop and item goes to the
compacted ``logistics.stock`` topic, the view anyone can read to see which shops still have it.

A day's home share (demand moving between office and home areas) is judged once the day is complete, that is
when the first report of a later day arrives. A report of a (shop, item, day) already seen is a redelivery:
it republishes what the first produced and changes nothing, so a crash and redelivery double nothing.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable
from datetime import date

from services.logistics.domain.anomalies import Alert, DayRecord, Rules, home_share, judge, judge_shift
from shared.contracts.base import Envelope
from shared.contracts.crowd import ANOMALIES
from shared.contracts.logistics import STOCK, ShopDayReported, StockAnomalyDetected, StockLevelReported
from shared.runtime import Outgoing

_WHAT = {"surge": "sold", "stockout": "left at closing", "waste": "written off", "shift": "home-area share"}


def evidence(alert: Alert, rules: Rules) -> str:
    """The alert in one sentence a shop or planner can check against their own numbers."""
    if alert.kind == "shift":
        return (f"home-area shops sold {alert.observed:.1%} of the units sold at home and office areas, against "
                f"a median of {alert.expected:.1%} over the last {rules.window} days (robust z {alert.robust_z:.1f})")
    if alert.kind == "stockout":
        return (f"no stock left at closing while the usual day sells {alert.expected:.0f} "
                f"(median of the last {rules.window} days)")
    return (f"{_WHAT[alert.kind]} {alert.observed:.0f} against a median of {alert.expected:.1f} over the last "
            f"{rules.window} days (robust z {alert.robust_z:.1f})")


class ShopWatch:
    """Per (shop, item): the recent days, kept sorted; per day: the records, for the home share."""

    def __init__(self, rules: Rules | None = None) -> None:
        self.rules = rules or Rules()
        self.series: dict[tuple[str, str], list[DayRecord]] = {}
        self.days: dict[int, list[DayRecord]] = {}
        self.shares: dict[int, float] = {}
        self.seen: dict[tuple[str, str, int], list[Outgoing]] = {}
        self.open_day: int | None = None

    def on_report(self, envelope: Envelope, payload: ShopDayReported) -> Iterable[Outgoing]:
        p = payload
        day = p.day.toordinal()
        key = (p.shop, p.item, day)
        if key in self.seen:
            return list(self.seen[key])
        record = DayRecord(p.shop, p.item, day, p.sold, p.stock_end, p.written_off, p.area)
        out = self._close_days_before(day)
        history = self.series.setdefault((p.shop, p.item), [])
        at = bisect.bisect_left([d.day for d in history], day)
        before = history[:at]
        alerts = judge(before, record, self.rules)
        history.insert(at, record)
        del history[: max(0, len(history) - 2 * self.rules.window)]
        self.days.setdefault(day, []).append(record)
        out += [self._anomaly(a) for a in alerts]
        out.append(Outgoing(STOCK, StockLevelReported(shop=p.shop, item=p.item, day=p.day, stock_end=p.stock_end,
                                                      status=self._status(before, record))))
        self.seen[key] = out
        return list(out)

    def _status(self, before: list[DayRecord], record: DayRecord) -> str:
        if record.stock_end == 0:
            return "out"
        usual = sorted(d.sold for d in before[-self.rules.window:])
        return "low" if usual and record.stock_end < usual[len(usual) // 2] else "in_stock"

    def _close_days_before(self, day: int) -> list[Outgoing]:
        """Judge the home share of every complete day (those before ``day`` not judged yet)."""
        if self.open_day is None or day <= self.open_day:
            self.open_day = day if self.open_day is None else self.open_day
            return []
        out: list[Outgoing] = []
        for d in sorted(x for x in self.days if x < day and x not in self.shares):
            share = home_share(self.days[d])
            if share is None:
                continue
            history = [self.shares[x] for x in sorted(self.shares) if x < d]
            alert = judge_shift(history, share, d, self.rules)
            self.shares[d] = share
            if alert:
                out.append(self._anomaly(alert))
        horizon = day - 2 * self.rules.window
        for d in [x for x in self.days if x < horizon]:
            del self.days[d]
        for k in [k for k in self.seen if k[2] < horizon]:
            del self.seen[k]
        self.open_day = day
        return out

    def _anomaly(self, alert: Alert) -> Outgoing:
        return Outgoing(ANOMALIES, StockAnomalyDetected(
            kind=alert.kind, shop=alert.shop, item=alert.item, day=date.fromordinal(alert.day),
            observed=round(alert.observed, 4), expected=round(alert.expected, 4),
            robust_z=round(alert.robust_z, 2), evidence=evidence(alert, self.rules)))
