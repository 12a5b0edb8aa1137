"""The topic catalogue: every topic, its key, partitions, retention and dead-letter topic, in one place."""

from __future__ import annotations

from dataclasses import dataclass

DAY_MS = 24 * 3600 * 1000


@dataclass(frozen=True)
class Topic:
    name: str
    key: str
    partitions: int = 1
    retention_ms: int | None = 7 * DAY_MS
    compacted: bool = False

    @property
    def dlq(self) -> str:
        return f"{self.name}.dlq"


CATALOGUE: dict[str, Topic] = {
    t.name: t
    for t in (
        # Orders, cancellations and gate closures of a slot share this topic and key, so they stay in order.
        Topic("energy.orders", key="slot"),
        Topic("energy.rejections", key="participant"),
        Topic("energy.trades", key="slot", retention_ms=None),
        Topic("energy.clearings", key="slot"),
        Topic("energy.dispatch", key="device"),
        Topic("energy.dispatch.acks", key="device"),
        Topic("energy.forecasts", key="site"),
        Topic("ev.plans", key="vehicle"),
        Topic("ev.bookings", key="vehicle"),
        Topic("ev.sessions", key="vehicle", retention_ms=None),
        Topic("ev.chargers", key="charger"),
        Topic("mobility.requests", key="request"),
        Topic("mobility.assignments", key="request"),
        Topic("logistics.requests", key="parcel"),
        Topic("logistics.assignments", key="parcel"),
        Topic("crowd.counts", key="zone"),
        Topic("crowd.forecasts", key="zone"),
        Topic("incentives.campaigns", key="campaign"),
        Topic("incentives.offers", key="user"),
        Topic("incentives.responses", key="user"),
        Topic("incentives.users", key="user"),
        Topic("incentives.redemptions", key="code", retention_ms=None),
        Topic("ledger.receipts", key="participant", retention_ms=None),
        Topic("ledger.anchors", key="slot", retention_ms=None, compacted=True),
        Topic("ledger.retirements", key="participant", retention_ms=None),
        Topic("city.anomalies", key="zone"),
    )
}


def topic(name: str) -> Topic:
    try:
        return CATALOGUE[name]
    except KeyError:
        raise KeyError(f"topic {name!r} is not in the catalogue (shared/topics.py)") from None


def all_topic_names(with_dlq: bool = True) -> list[str]:
    names = list(CATALOGUE)
    if with_dlq:
        names += [t.dlq for t in CATALOGUE.values()]
    return names
