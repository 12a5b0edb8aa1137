"""A read model of each owner's cars for the app's "My car": the latest plan (mode, battery, the day's stays)
and the charging service's latest answer (bookings per charger and slot, cost, what an override costs, or the
departure it cannot cover).

The charging service plans on ``ev.plans`` and answers on ``ev.bookings``; both are keyed by vehicle. A car is
the caller's when its latest plan names the caller; a plan naming someone else for the same vehicle moves the
car to them (a sold or shared car), so a user never sees another owner's bookings.
"""

from __future__ import annotations

import threading
from typing import Any, Protocol

from services.gateway.bus_feed import BusCatchUp
from services.gateway.topic_feed import KafkaTopicFeed
from shared.bus.inprocess import InProcessBus
from shared.contracts import charging
from shared.contracts.base import AnyTopic, Payload
from shared.contracts.charging import EvBooked, EvPlanSubmitted

TOPICS: tuple[AnyTopic, ...] = (charging.PLANS, charging.BOOKINGS)


class CarReader(Protocol):
    def cars_for(self, owner: str) -> list[dict[str, Any]]: ...
    def plan_of(self, owner: str, vehicle: str) -> EvPlanSubmitted | None: ...
    def close(self) -> None: ...


def _public(plan: EvPlanSubmitted, booked: EvBooked | None) -> dict[str, Any]:
    answer = None
    if booked is not None and booked.participant == plan.participant:
        answer = {"status": booked.status, "planned_at": booked.planned_at.isoformat(),
                  "cost_yen": str(booked.cost_yen),
                  "override_cost_yen": None if booked.override_cost_yen is None else str(booked.override_cost_yen),
                  "bookings": [{"charger": b.charger, "slot": b.slot.isoformat(), "kwh": str(b.kwh),
                                "renewable_kwh": str(b.renewable_kwh)} for b in booked.bookings],
                  "shortfalls": [{"depart": s.depart.isoformat(), "need_kwh": str(s.need_kwh),
                                  "missing_kwh": str(s.missing_kwh),
                                  "feasible_depart": s.feasible_depart.isoformat() if s.feasible_depart else None}
                                 for s in booked.shortfalls]}
    return {"vehicle": plan.vehicle, "mode": plan.mode, "preference": plan.preference,
            "battery_kwh": str(plan.battery_kwh), "soc_kwh": str(plan.soc_kwh), "v2g": plan.v2g,
            "stays": [{"site": s.site, "arrive": s.arrive.isoformat(), "depart": s.depart.isoformat(),
                       "need_kwh": str(s.need_kwh)} for s in plan.stays],
            "plan": answer}


class CarBook:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._plans: dict[str, EvPlanSubmitted] = {}
        self._booked: dict[str, EvBooked] = {}

    def apply(self, payload: Payload) -> None:
        with self._lock:
            if isinstance(payload, EvPlanSubmitted):
                old = self._plans.get(payload.vehicle)
                if old is not None and old.participant != payload.participant:
                    self._booked.pop(payload.vehicle, None)  # the old owner's bookings are not the new one's
                self._plans[payload.vehicle] = payload
            elif isinstance(payload, EvBooked):
                self._booked[payload.vehicle] = payload

    def cars_for(self, owner: str) -> list[dict[str, Any]]:
        with self._lock:
            return [_public(p, self._booked.get(v)) for v, p in sorted(self._plans.items())
                    if p.participant == owner]

    def plan_of(self, owner: str, vehicle: str) -> EvPlanSubmitted | None:
        with self._lock:
            plan = self._plans.get(vehicle)
            return plan if plan is not None and plan.participant == owner else None

    def close(self) -> None:
        return None


class KafkaCarFeed(KafkaTopicFeed):
    """The book fed from Kafka (see :mod:`services.gateway.topic_feed`)."""

    def __init__(self, bootstrap: str, retry_s: float = 0.5) -> None:
        super().__init__(bootstrap, TOPICS, "car-feed", retry_s)
        self.book = CarBook()

    def fold(self, payload: Any) -> None:
        self.book.apply(payload)

    def cars_for(self, owner: str) -> list[dict[str, Any]]:
        return self.book.cars_for(owner)

    def plan_of(self, owner: str, vehicle: str) -> EvPlanSubmitted | None:
        return self.book.plan_of(owner, vehicle)


class BusCars(CarBook):
    """The book over the in-process bus (demo, browser tests): catches up with the bus's log when read."""

    def __init__(self, bus: InProcessBus) -> None:
        super().__init__()
        self._catch_up = BusCatchUp(bus, TOPICS, self.apply)

    def cars_for(self, owner: str) -> list[dict[str, Any]]:
        self._catch_up()
        return super().cars_for(owner)

    def plan_of(self, owner: str, vehicle: str) -> EvPlanSubmitted | None:
        self._catch_up()
        return super().plan_of(owner, vehicle)
