"""A read model of each app user's rides, deliveries and co-owned car bookings, for the app's "My rides and
deliveries".

Rides: the rider's requests (``mobility.requests``) with the dispatcher's answer (accepted with a pick-up window
and a fare, or declined with the reason and the nearest alternative) and the completion (``mobility.assignments``).
Deliveries: the parcels the user sent (``logistics.requests``, ``sender``) with their latest assignment, hand-over,
failure or return (``logistics.assignments``). Co-owned car bookings: the member's bookings of their group's cars
(``mobility.coowned``) with the answer (the car held, or why not and which cars are free then). Rows are keyed by
request, parcel or booking; a user only ever sees rows whose request named them.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from datetime import datetime
from typing import Any, Protocol

from services.gateway.bus_feed import BusCatchUp
from services.gateway.topic_feed import KafkaTopicFeed
from shared.bus.inprocess import InProcessBus
from shared.contracts import logistics, mobility
from shared.contracts.base import AnyTopic, Payload
from shared.contracts.logistics import (
    DeliveryFailed,
    ParcelAssigned,
    ParcelDelivered,
    ParcelRequested,
    ParcelReturned,
    ParcelUndeliverable,
)
from shared.contracts.mobility import (
    CoownedBookingAnswered,
    CoownedBookingRequested,
    RideAnswered,
    RideCompleted,
    RideRequested,
)

TOPICS: tuple[AnyTopic, ...] = (mobility.REQUESTS, mobility.ASSIGNMENTS, logistics.REQUESTS, logistics.ASSIGNMENTS,
                                mobility.COOWNED)
KEEP_PER_USER = 50


class RideReader(Protocol):
    def rides_for(self, rider: str) -> list[dict[str, Any]]:
        """The rider's rides, newest request first."""
        ...

    def deliveries_for(self, sender: str) -> list[dict[str, Any]]:
        """The parcels the user sent, newest first."""
        ...

    def bookings_for(self, member: str) -> list[dict[str, Any]]:
        """The member's co-owned car bookings, newest first."""
        ...

    def close(self) -> None: ...


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _ride(r: RideRequested) -> dict[str, Any]:
    return {"request_id": r.request_id, "state": "requested",
            "origin": [r.origin_lat, r.origin_lon], "destination": [r.destination_lat, r.destination_lon],
            "earliest_pickup": _iso(r.earliest_pickup), "latest_arrival": _iso(r.latest_arrival),
            "party": r.party, "wheelchair": r.wheelchair, "vehicle": None, "pickup_from": None,
            "pickup_until": None, "planned_dropoff": None, "fare_yen": None, "reason": "", "alternative": "",
            "alternative_pickup": None, "picked_up_at": None, "dropped_off_at": None}


def _parcel(p: ParcelRequested) -> dict[str, Any]:
    return {"parcel_id": p.parcel_id, "state": "requested", "depot": p.depot, "to": [p.lat, p.lon],
            "deliver_from": _iso(p.deliver_from), "deliver_until": _iso(p.deliver_until),
            "weight_kg": p.weight_kg, "courier": None, "planned_at": None, "fee_yen": None, "reason": "",
            "delivered_at": None}


def _booking(b: CoownedBookingRequested) -> dict[str, Any]:
    return {"booking_id": b.booking_id, "state": "requested", "group": b.group, "asked_car": b.car,
            "start": _iso(b.start), "end": _iso(b.end), "distance_m": b.distance_m, "car": None, "period": None,
            "reason": "", "free_cars": []}


def _answered(row: dict[str, Any], a: RideAnswered) -> None:
    if row["state"] == "completed":
        return  # a late re-answer does not undo a ride already done
    row.update(state="accepted" if a.accepted else "declined", vehicle=a.vehicle, pickup_from=_iso(a.pickup_from),
               pickup_until=_iso(a.pickup_until), planned_dropoff=_iso(a.planned_dropoff), fare_yen=a.fare_yen,
               reason=a.reason, alternative=a.alternative, alternative_pickup=_iso(a.alternative_pickup))


def _parcel_moved(row: dict[str, Any], p: Payload) -> None:
    if row["state"] in ("delivered", "returned"):
        return  # final
    if isinstance(p, ParcelAssigned):
        row.update(state="assigned", courier=p.courier, planned_at=_iso(p.planned_at))
    elif isinstance(p, ParcelDelivered):
        row.update(state="delivered", courier=p.courier, fee_yen=p.fee_yen, delivered_at=_iso(p.delivered_at))
    elif isinstance(p, ParcelUndeliverable):
        row.update(state="undeliverable", reason=p.reason)
    elif isinstance(p, ParcelReturned):
        row.update(state="returned", reason=p.reason)
    elif isinstance(p, DeliveryFailed):
        row.update(state="failed", courier=p.courier, reason=p.reason)


class RideBook:
    def __init__(self, keep_per_user: int = KEEP_PER_USER) -> None:
        self._lock = threading.Lock()
        self._keep = keep_per_user
        self._rides: dict[str, OrderedDict[str, dict[str, Any]]] = {}
        self._parcels: dict[str, OrderedDict[str, dict[str, Any]]] = {}
        self._rider: dict[str, str] = {}   # request -> rider
        self._sender: dict[str, str] = {}  # parcel -> sender
        self._bookings: dict[str, OrderedDict[str, dict[str, Any]]] = {}
        self._member: dict[str, str] = {}  # booking -> member

    def _keep_newest(self, rows: OrderedDict[str, dict[str, Any]], owners: dict[str, str]) -> None:
        while len(rows) > self._keep:
            old, _ = rows.popitem(last=False)
            owners.pop(old, None)

    def apply(self, payload: Payload) -> None:
        with self._lock:
            if isinstance(payload, RideRequested):
                if payload.request_id in self._rider:
                    return  # a redelivered request keeps the row it made (and the answer it got)
                rides = self._rides.setdefault(payload.rider, OrderedDict())
                rides[payload.request_id] = _ride(payload)
                self._rider[payload.request_id] = payload.rider
                self._keep_newest(rides, self._rider)
            elif isinstance(payload, RideAnswered | RideCompleted):
                row = self._ride_row(payload.request_id, payload.rider)
                if row is None:
                    return
                if isinstance(payload, RideAnswered):
                    _answered(row, payload)
                else:
                    row.update(state="completed", vehicle=payload.vehicle, fare_yen=payload.fare_yen,
                               picked_up_at=_iso(payload.picked_up_at), dropped_off_at=_iso(payload.dropped_off_at))
            elif isinstance(payload, ParcelRequested):
                if payload.parcel_id in self._sender:
                    return
                parcels = self._parcels.setdefault(payload.sender, OrderedDict())
                parcels[payload.parcel_id] = _parcel(payload)
                self._sender[payload.parcel_id] = payload.sender
                self._keep_newest(parcels, self._sender)
            elif isinstance(payload, ParcelAssigned | ParcelDelivered | ParcelUndeliverable | ParcelReturned
                            | DeliveryFailed):
                sender = self._sender.get(payload.parcel_id)
                if sender is not None:
                    _parcel_moved(self._parcels[sender][payload.parcel_id], payload)
            elif isinstance(payload, CoownedBookingRequested):
                if payload.booking_id in self._member:
                    return  # a redelivered booking keeps its row and its answer
                bookings = self._bookings.setdefault(payload.member, OrderedDict())
                bookings[payload.booking_id] = _booking(payload)
                self._member[payload.booking_id] = payload.member
                self._keep_newest(bookings, self._member)
            elif isinstance(payload, CoownedBookingAnswered):
                if self._member.get(payload.booking_id) != payload.member:
                    return  # an answer naming another member never reaches this member's row
                self._bookings[payload.member][payload.booking_id].update(
                    state="accepted" if payload.accepted else "declined", car=payload.car, period=payload.period,
                    reason=payload.reason, free_cars=list(payload.free_cars))

    def _ride_row(self, request_id: str, rider: str) -> dict[str, Any] | None:
        """The request's row, only when the answer names the rider who asked (never another user's row)."""
        if self._rider.get(request_id) != rider:
            return None
        return self._rides[rider][request_id]

    def rides_for(self, rider: str) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(r) for r in reversed(self._rides.get(rider, {}).values())]

    def deliveries_for(self, sender: str) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(p) for p in reversed(self._parcels.get(sender, {}).values())]

    def bookings_for(self, member: str) -> list[dict[str, Any]]:
        with self._lock:
            return [{**b, "free_cars": list(b["free_cars"])} for b in reversed(self._bookings.get(member, {}).values())]

    def close(self) -> None:
        return None


class KafkaRideFeed(KafkaTopicFeed):
    """The book fed from Kafka (see :mod:`services.gateway.topic_feed`)."""

    def __init__(self, bootstrap: str, retry_s: float = 0.5) -> None:
        super().__init__(bootstrap, TOPICS, "ride-feed", retry_s)
        self.book = RideBook()

    def fold(self, payload: Any) -> None:
        self.book.apply(payload)

    def rides_for(self, rider: str) -> list[dict[str, Any]]:
        return self.book.rides_for(rider)

    def deliveries_for(self, sender: str) -> list[dict[str, Any]]:
        return self.book.deliveries_for(sender)

    def bookings_for(self, member: str) -> list[dict[str, Any]]:
        return self.book.bookings_for(member)


class BusRides(RideBook):
    """The book over the in-process bus (demo, browser tests): catches up with the bus's log when read."""

    def __init__(self, bus: InProcessBus) -> None:
        super().__init__()
        self._catch_up = BusCatchUp(bus, TOPICS, self.apply)

    def rides_for(self, rider: str) -> list[dict[str, Any]]:
        self._catch_up()
        return super().rides_for(rider)

    def deliveries_for(self, sender: str) -> list[dict[str, Any]]:
        self._catch_up()
        return super().deliveries_for(sender)

    def bookings_for(self, member: str) -> list[dict[str, Any]]:
        self._catch_up()
        return super().bookings_for(member)
