"""A live read model of the station area for the operators' map: chokepoints' level of service, chargers' load,
and where the ride vehicles and couriers are going.

What it folds (each topic is what a service already publishes; nothing here invents a topic):

- ``crowd.counts`` ``CrowdCountObserved`` (simulator or sensors, per chokepoint and minute): walkers, density
  and Fruin's level of service A-F; the newest minute per chokepoint is held.
- ``ev.sessions`` ``ChargingSessionMetered`` (the charger gateway's meter readings): kW in use is the energy
  between two readings of one transaction over the meter's time between them (the first reading: since its
  start); a final reading leaves the charger idle. ``ev.chargers`` ``ChargerAvailability``: away or back, with
  the reason. ``energy.dispatch`` ``DispatchSetpoint`` (device = charger id): the kWh the plan gives each
  charger per slot, as the planned kW of the current slot.
- ``mobility.assignments`` ``VehiclePlanned``: a ride vehicle's position when it was planned and its next stop
  (the latest revision per vehicle).
- ``logistics.requests`` ``ParcelRequested`` (where a parcel goes) and ``logistics.assignments``
  (``ParcelAssigned``; delivered, returned or undeliverable parcels leave the round): a courier publishes no
  position, so a courier is shown at its next stop, the first parcel of its round.

Live or stale: each item's age is the time since its last event was published (the envelope's
``occurred_at``) against the read model's clock, not the time its payload speaks of, so a replayed day from
the simulator is live while it plays and a chokepoint that went quiet turns stale. Thresholds: :class:`Freshness`.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Protocol

from services.gateway.bus_feed import BusCatchUp
from services.gateway.map_data import chokepoints as map_chokepoints
from services.gateway.map_data import named_places
from services.gateway.topic_feed import KafkaTopicFeed
from shared.bus.inprocess import InProcessBus
from shared.contracts import charging, crowd, energy, logistics, mobility
from shared.contracts.base import AnyTopic, Envelope, Payload
from shared.units import slot_start

TOPICS: tuple[AnyTopic, ...] = (crowd.COUNTS, charging.SESSIONS, charging.CHARGERS, energy.DISPATCH,
                                mobility.ASSIGNMENTS, logistics.REQUESTS, logistics.ASSIGNMENTS)

# Where each charging site is on the map: a named node of the walking network. LaLaport's car park at the mall,
# the station's public chargers at the car-share EV station by the west exit, the office park at the schematic
# office cluster west of the station (the charging service's sites carry no coordinates of their own).
SITE_PLACES = {"lalaport-ebina": "ららぽーと海老名 (LaLaport Ebina)", "ebina-station-ev": "海老名駅西口（ＥＶ）",
               "office-park": "offices west, Ekimae"}
SLOT_H = Decimal("0.5")
KEEP_SLOTS = 96        # set-points held per charger (two days of slots)
KEEP_PARCELS = 20_000  # parcels held while they wait for a courier or in a round


@dataclass(frozen=True)
class ChargerSpec:
    """One charger the charging service runs: its site and the power it can give (kW)."""

    charger: str
    site: str
    capacity_kw: Decimal


@dataclass(frozen=True)
class Freshness:
    """How old (seconds since its last event) an item may be and still be shown as live."""

    crowd_s: float = 180.0     # counts come every minute
    meter_s: float = 600.0     # OCPP meter values come every minute or few
    vehicle_s: float = 900.0   # plans are revised on each request, at least every few minutes in service

    def to_json(self) -> dict[str, float]:
        return {"crowd": self.crowd_s, "meter": self.meter_s, "vehicle": self.vehicle_s}


class LiveReader(Protocol):
    def snapshot(self) -> dict[str, Any]: ...
    def close(self) -> None: ...


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _kw(kwh: Decimal, hours: float) -> float:
    return round(float(kwh) / hours, 3) if hours > 0 else 0.0


@dataclass
class _Count:
    count: crowd.CrowdCountObserved
    at: datetime


@dataclass
class _Charger:
    available: bool | None = None
    reason: str = ""
    status_at: datetime | None = None
    reading: charging.ChargingSessionMetered | None = None
    kw: float = 0.0
    read_at: datetime | None = None  # when the last reading was published
    setpoints: dict[datetime, Decimal] = field(default_factory=dict)


@dataclass
class _Vehicle:
    plan: mobility.VehiclePlanned
    at: datetime


@dataclass
class _Parcel:
    lat: float
    lon: float
    depot: str
    assigned: logistics.ParcelAssigned | None = None
    at: datetime | None = None


class LiveBook:
    """The live state, folded from the topics above; :meth:`snapshot` reads it against the clock."""

    def __init__(self, chargers: Iterable[ChargerSpec] = (), *, clock: Callable[[], datetime] | None = None,
                 freshness: Freshness | None = None) -> None:
        self._lock = threading.Lock()
        self._clock = clock or (lambda: datetime.now(UTC))
        self.freshness = freshness or Freshness()
        self._specs = {c.charger: c for c in chargers}
        self._counts: dict[str, _Count] = {}
        self._chargers: dict[str, _Charger] = {c: _Charger() for c in self._specs}
        self._vehicles: dict[str, _Vehicle] = {}
        self._parcels: OrderedDict[str, _Parcel] = OrderedDict()

    # -- folding ---------------------------------------------------------------------------------------------
    def apply_event(self, envelope: Envelope, payload: Payload) -> None:
        with self._lock:
            self._fold(envelope.occurred_at, payload)

    def _fold(self, at: datetime, payload: Payload) -> None:
        if isinstance(payload, crowd.CrowdCountObserved):
            held = self._counts.get(payload.zone)
            if held is None or payload.minute_start >= held.count.minute_start:
                self._counts[payload.zone] = _Count(payload, at)
        elif isinstance(payload, charging.ChargingSessionMetered):
            self._reading(payload, at)
        elif isinstance(payload, charging.ChargerAvailability):
            state = self._chargers.setdefault(payload.charger, _Charger())
            state.available, state.reason, state.status_at = payload.available, payload.reason, at
        elif isinstance(payload, energy.DispatchSetpoint):
            self._setpoint(payload)
        elif isinstance(payload, mobility.VehiclePlanned):
            held_v = self._vehicles.get(payload.vehicle)
            if held_v is None or payload.revision >= held_v.plan.revision:
                self._vehicles[payload.vehicle] = _Vehicle(payload, at)
        else:
            self._parcel(payload, at)

    def _reading(self, r: charging.ChargingSessionMetered, at: datetime) -> None:
        state = self._chargers.setdefault(r.charger, _Charger())
        old = state.reading
        if old is not None and old.transaction_id == r.transaction_id and r.read_at <= old.read_at:
            return  # a redelivered or older reading of the same transaction
        if r.final:
            kw = 0.0
        elif old is not None and old.transaction_id == r.transaction_id and not old.final:
            kw = _kw(r.kwh - old.kwh, (r.read_at - old.read_at).total_seconds() / 3600)
        else:
            kw = _kw(r.kwh, (r.read_at - r.started_at).total_seconds() / 3600)
        state.reading, state.kw, state.read_at = r, max(kw, 0.0), at

    def _setpoint(self, s: energy.DispatchSetpoint) -> None:
        state = self._chargers.get(s.device)
        if state is None:
            return  # not a charger (a battery, a heat pump): not on this layer
        state.setpoints[s.slot] = s.kwh
        while len(state.setpoints) > KEEP_SLOTS:
            del state.setpoints[min(state.setpoints)]

    def _parcel(self, payload: Payload, at: datetime) -> None:
        if isinstance(payload, logistics.ParcelRequested):
            self._parcels[payload.parcel_id] = _Parcel(payload.lat, payload.lon, payload.depot)
            while len(self._parcels) > KEEP_PARCELS:
                self._parcels.popitem(last=False)
        elif isinstance(payload, logistics.ParcelAssigned):
            parcel = self._parcels.get(payload.parcel_id)
            if parcel is not None and (parcel.assigned is None
                                       or payload.plan_revision >= parcel.assigned.plan_revision):
                parcel.assigned, parcel.at = payload, at
        elif isinstance(payload, logistics.ParcelDelivered | logistics.ParcelReturned | logistics.ParcelUndeliverable):
            self._parcels.pop(payload.parcel_id, None)

    # -- reading ---------------------------------------------------------------------------------------------
    def snapshot(self) -> dict[str, Any]:
        now = self._clock()
        with self._lock:
            return {"now": _iso(now), "stale_after_s": self.freshness.to_json(),
                    "chokepoints": self._chokepoints(now), "chargers": self._charger_rows(now),
                    "vehicles": self._vehicle_rows(now) + self._courier_rows(now)}

    @staticmethod
    def _age(now: datetime, at: datetime | None) -> float | None:
        return None if at is None else round(max((now - at).total_seconds(), 0.0), 1)

    def _chokepoints(self, now: datetime) -> list[dict[str, Any]]:
        places = map_chokepoints()
        rows = []
        for zone in sorted(set(places) | set(self._counts)):
            place = places.get(zone, {"name": zone, "name_ja": "", "width_m": 0.0})
            held = self._counts.get(zone)
            row: dict[str, Any] = {"zone": zone, **place, "los": None, "persons": None, "flow_p_m_min": None,
                                   "density_p_m2": None, "minute_start": None, "at": None, "age_s": None,
                                   "stale": True}
            if held is not None:
                c, age = held.count, self._age(now, held.at)
                width = float(place["width_m"])
                row.update(los=c.los, persons=c.persons, density_p_m2=c.density_p_m2,
                           flow_p_m_min=round(c.persons / width, 2) if width > 0 else None,
                           minute_start=_iso(c.minute_start), at=_iso(held.at), age_s=age,
                           stale=age is None or age > self.freshness.crowd_s)
            rows.append(row)
        return rows

    def _charger_rows(self, now: datetime) -> list[dict[str, Any]]:
        places = named_places()
        current = slot_start(now)
        rows = []
        for charger, state in sorted(self._chargers.items()):
            spec = self._specs.get(charger)
            site = spec.site if spec else charger.split("/")[0]
            lon_lat = places.get(SITE_PLACES.get(site, ""))
            r = state.reading
            age = self._age(now, state.read_at)
            in_use = r is not None and not r.final
            stale = in_use and (age is None or age > self.freshness.meter_s)
            planned = state.setpoints.get(current)
            rows.append({
                "charger": charger, "site": site,
                "capacity_kw": None if spec is None else float(spec.capacity_kw),
                "kw": state.kw if in_use else 0.0,
                "planned_kw": None if planned is None else _kw(planned, float(SLOT_H)),
                "in_use": in_use, "vehicle": r.vehicle if in_use and r else None,
                "session_kwh": float(r.kwh) if r else None, "read_at": _iso(r.read_at) if r else None,
                "at": _iso(state.read_at), "age_s": age, "stale": stale,
                "available": state.available, "reason": state.reason, "status_at": _iso(state.status_at),
                "lon": lon_lat[0] if lon_lat else None, "lat": lon_lat[1] if lon_lat else None})
        return rows

    def _vehicle_rows(self, now: datetime) -> list[dict[str, Any]]:
        rows = []
        for vehicle, held in sorted(self._vehicles.items()):
            p = held.plan
            nxt = p.stops[0] if p.stops else None
            age = self._age(now, held.at)
            rows.append({
                "vehicle": vehicle, "service": "mobility", "lat": p.at_lat, "lon": p.at_lon, "position": "planned",
                "next_stop": None if nxt is None else {
                    # a delivery round it holds between rides: to the depot to load (pickup), back (dropoff)
                    "kind": f"round_{nxt.kind}" if nxt.purpose == "delivery" else nxt.kind,
                    "ref": nxt.request_id, "lat": nxt.lat, "lon": nxt.lon, "planned_at": _iso(nxt.planned_at)},
                "stops": len(p.stops), "onboard": len(p.onboard), "revision": p.revision,
                "at": _iso(held.at), "age_s": age, "stale": age is None or age > self.freshness.vehicle_s})
        return rows

    def _courier_rows(self, now: datetime) -> list[dict[str, Any]]:
        rounds: dict[str, list[tuple[datetime, int, str, _Parcel, datetime]]] = {}
        for parcel_id, parcel in self._parcels.items():
            a = parcel.assigned
            if a is not None and parcel.at is not None:
                rounds.setdefault(a.courier, []).append((a.planned_at, a.position, parcel_id, parcel, parcel.at))
        rows = []
        for courier, stops in sorted(rounds.items()):
            planned_at, _, first_id, first, _ = min(stops, key=lambda s: (s[0], s[1], s[2]))
            age = self._age(now, max(s[4] for s in stops))
            rows.append({
                "vehicle": courier, "service": "logistics", "lat": first.lat, "lon": first.lon,
                "position": "next_stop",
                "next_stop": {"kind": "delivery", "ref": first_id, "lat": first.lat, "lon": first.lon,
                              "planned_at": _iso(planned_at)},
                "stops": len(stops), "onboard": None, "revision": max(s[3].assigned.plan_revision for s in stops
                                                                      if s[3].assigned),
                "at": _iso(max(s[4] for s in stops)), "age_s": age,
                "stale": age is None or age > self.freshness.vehicle_s})
        return rows

    def close(self) -> None:
        return None


class KafkaLiveFeed(KafkaTopicFeed):
    """The live book fed from Kafka (see :mod:`services.gateway.topic_feed`)."""

    def __init__(self, bootstrap: str, chargers: Iterable[ChargerSpec] = (), retry_s: float = 0.5,
                 freshness: Freshness | None = None) -> None:
        super().__init__(bootstrap, TOPICS, "live-feed", retry_s)
        self.book = LiveBook(chargers, freshness=freshness)

    def fold_event(self, envelope: Envelope, payload: Any) -> None:
        self.book.apply_event(envelope, payload)

    def snapshot(self) -> dict[str, Any]:
        return self.book.snapshot()


class BusLive(LiveBook):
    """The live book over the in-process bus (demo, browser tests): catches up with the bus's log when read;
    its clock is the bus's when the bus has one."""

    def __init__(self, bus: InProcessBus, chargers: Iterable[ChargerSpec] = (), *,
                 clock: Callable[[], datetime] | None = None, freshness: Freshness | None = None) -> None:
        super().__init__(chargers, clock=clock or bus.clock, freshness=freshness)
        self._catch_up = BusCatchUp(bus, TOPICS, apply_event=self.apply_event)

    def snapshot(self) -> dict[str, Any]:
        self._catch_up()
        return super().snapshot()
