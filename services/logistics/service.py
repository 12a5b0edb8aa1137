"""Logistics on the bus: parcels in, courier rounds out, re-planned as parcels arrive.

Each ParcelRequested joins its depot's open parcels and the depot is re-planned (VRPTW with OR-Tools);
every open parcel's latest assignment is published (ParcelAssigned), a parcel no courier can deliver in
its window gets ParcelUndeliverable with the reason, and a DeliveryFailed from a courier sends the parcel
back (ParcelReturned, with the courier's reason). A timer removes parcels whose hand-over time has
passed (delivered as planned) and publishes ParcelDelivered with the sender's fee and the operator's payout
(settlement books it once per parcel). A redelivered request changes nothing: the parcel is already open.
Shops' daily reports are watched for anomalies by :mod:`services.logistics.shop_watch`.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from services.logistics.domain.fees import FeeRule, delivery_fee
from services.logistics.domain.planner import Courier, Parcel, plan_depot
from services.logistics.shop_watch import ShopWatch
from shared.contracts.base import Envelope, utcnow
from shared.contracts.logistics import (
    ASSIGNMENTS,
    REQUESTS,
    SHOP_DAYS,
    DeliveryFailed,
    ParcelAssigned,
    ParcelDelivered,
    ParcelRequested,
    ParcelReturned,
    ParcelUndeliverable,
    ShopDayReported,
)
from shared.roads import RoadNetwork
from shared.runtime import Outgoing, Service, Timer

log = logging.getLogger(__name__)
TOKYO = ZoneInfo("Asia/Tokyo")


@dataclass(frozen=True)
class LogisticsSettings:
    couriers: dict[str, tuple[tuple[str, int], ...]] = field(default_factory=lambda: {
        "lalaport": (("courier-lalaport-1", 60_000), ("courier-lalaport-2", 60_000)),
        "vinawalk": (("courier-vinawalk-1", 60_000), ("ev-shuttle-3", 80_000)),
    })
    # Who runs each depot's couriers (paid the delivery fee's payout on the ledger).
    operators: dict[str, str] = field(default_factory=lambda: {"lalaport": "ebina-couriers",
                                                               "vinawalk": "ebina-couriers"})
    fees: FeeRule = field(default_factory=FeeRule)
    search_s: float = 0.5
    shift_end_hour: int = 21
    housekeeping_s: float = 30.0


class LogisticsService:
    def __init__(self, network: RoadNetwork, settings: LogisticsSettings | None = None,
                 clock: Callable[[], datetime] | None = None) -> None:
        self.settings = settings or LogisticsSettings()
        self.net = network
        self.clock = clock or utcnow
        self.t0 = self.clock()
        self.open: dict[str, tuple[ParcelRequested, Parcel]] = {}
        self.planned: dict[str, ParcelAssigned] = {}
        self.closed: set[str] = set()
        self.revision = 0

    def _secs(self, moment: datetime) -> int:
        return int((moment - self.t0).total_seconds())

    def _depot_node(self, depot: str) -> int | None:
        found = self.net.nodes_with("ref", depot)
        return found[0] if found else None

    def on_failed(self, envelope: Envelope, payload: DeliveryFailed) -> Iterable[Outgoing]:
        return self._failed(payload)

    def on_request(self, envelope: Envelope, payload: ParcelRequested) -> Iterable[Outgoing]:
        p = payload
        if p.parcel_id in self.open or p.parcel_id in self.closed:
            return [Outgoing(ASSIGNMENTS, self.planned[p.parcel_id])] if p.parcel_id in self.planned else []
        if self._depot_node(p.depot) is None or p.depot not in self.settings.couriers:
            self.closed.add(p.parcel_id)
            return [Outgoing(ASSIGNMENTS, ParcelUndeliverable(parcel_id=p.parcel_id, sender=p.sender,
                                                              reason=f"depot {p.depot!r} is not served"))]
        parcel = Parcel(p.parcel_id, self.net.nearest(p.lat, p.lon), self._secs(p.deliver_from),
                        self._secs(p.deliver_until), round(p.weight_kg * 1000))
        self.open[p.parcel_id] = (p, parcel)
        return self._replan(p.depot)

    def _replan(self, depot: str) -> list[Outgoing]:
        now_dt = self.clock()
        now = self._secs(now_dt)
        hour = now_dt.astimezone(TOKYO).hour
        parcels = [parcel for req, parcel in self.open.values() if req.depot == depot]
        shift_end = self._secs(now_dt.astimezone(TOKYO).replace(hour=self.settings.shift_end_hour, minute=0, second=0))
        couriers = [Courier(cid, cap, max(shift_end, now + 3600)) for cid, cap in self.settings.couriers[depot]]
        travel = self.net.seconds(list(range(self.net.n_nodes)), hour)
        plan = plan_depot(self._depot_node(depot), parcels, couriers, travel, now, self.settings.search_s)
        self.revision += 1
        out: list[Outgoing] = []
        for rnd in plan.rounds:
            for pos, (pid, t) in enumerate(zip(rnd.parcels, rnd.times, strict=True)):
                old = self.planned.get(pid)
                new = ParcelAssigned(parcel_id=pid, courier=rnd.courier, position=pos,
                                     planned_at=self.t0 + timedelta(seconds=t), plan_revision=self.revision)
                if old is None or (old.courier, old.position, old.planned_at) != (new.courier, new.position,
                                                                                  new.planned_at):
                    self.planned[pid] = new
                    out.append(Outgoing(ASSIGNMENTS, new))
        for pid, reason in plan.undeliverable.items():
            req, _ = self.open.pop(pid)
            self.planned.pop(pid, None)
            self.closed.add(pid)
            out.append(Outgoing(ASSIGNMENTS, ParcelUndeliverable(parcel_id=pid, sender=req.sender, reason=reason)))
        return out

    def _failed(self, f: DeliveryFailed) -> list[Outgoing]:
        entry = self.open.pop(f.parcel_id, None)
        if entry is None:
            return []
        req, _ = entry
        self.planned.pop(f.parcel_id, None)
        self.closed.add(f.parcel_id)
        return [Outgoing(ASSIGNMENTS, ParcelReturned(parcel_id=f.parcel_id, sender=req.sender, depot=req.depot,
                                                     reason=f.reason))]

    def housekeeping(self) -> Iterable[Outgoing]:
        """Parcels whose planned hand-over is past are delivered: they leave the open set and are billed."""
        now = self.clock()
        out: list[Outgoing] = []
        for pid, a in list(self.planned.items()):
            if a.planned_at <= now and pid in self.open:
                req, _ = self.open.pop(pid)
                self.closed.add(pid)
                fee, payout = delivery_fee(req.weight_kg, self.settings.fees)
                out.append(Outgoing(ASSIGNMENTS, ParcelDelivered(
                    parcel_id=pid, sender=req.sender, courier=a.courier,
                    operator=self.settings.operators.get(req.depot, f"{req.depot}-couriers"), fee_yen=fee,
                    payout_yen=payout, delivered_at=a.planned_at)))
        return out


def build_service(network: RoadNetwork, settings: LogisticsSettings | None = None,
                  clock: Callable[[], datetime] | None = None) -> Service:
    svc = LogisticsService(network, settings, clock)
    watch = ShopWatch()
    lock = threading.Lock()  # handlers and the timer run in the Kafka adapter's worker threads

    def locked(fn):
        def run(*args):
            with lock:
                return list(fn(*args))
        return run

    return Service(name="logistics", handlers={REQUESTS: {ParcelRequested: locked(svc.on_request),
                                                          DeliveryFailed: locked(svc.on_failed)},
                                               SHOP_DAYS: {ShopDayReported: locked(watch.on_report)}},
                   timers=[Timer(svc.settings.housekeeping_s, locked(svc.housekeeping))],
                   # The shop watch's recent days are rebuilt from the reports (their outputs are not resent).
                   replay={SHOP_DAYS: timedelta(days=2 * watch.rules.window + 2)})
