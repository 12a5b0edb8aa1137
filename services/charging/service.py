"""The charging service as a :class:`shared.runtime.Service`: plans in, bookings, orders and set-points out.

Consumes ``ev.plans`` (EvPlanSubmitted), ``energy.forecasts`` (SiteForecast), ``ev.sessions``
(ChargingSessionMetered from the charger gateway) and ``ev.chargers`` (ChargerAvailability). Each of them,
and the timer when a new slot opens, re-plans what is not yet executed (rolling horizon) and publishes only
what changed: ``ev.bookings`` EvBooked per car, ``energy.orders`` EnergyOrderPlaced / EnergyOrderCancelled
(the market's own contract, one buy order per car and slot, at the car's charger site so on-site PV
matches first) and ``energy.dispatch`` DispatchSetpoint per charger and slot. Order ids are hashes of car,
slot and energy, so a re-plan that keeps a booking re-sends nothing and a redelivered order is a no-op.
A finished transaction is billed on ``ev.bills`` with the PV part of what the plans booked for it
(``domain.booked_energy``); the service reads its own ``ev.bookings`` back so that history survives a restart.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from decimal import Decimal

import numpy as np

from services.charging.domain.answers import override_costs, shortfalls
from services.charging.domain.booked_energy import BookedCell, BookedEnergy
from services.charging.domain.planner import Plan, plan
from services.charging.fleet_builder import Frame, build_frame, yen
from services.charging.settings import ChargingSettings
from shared.contracts import charging as ev
from shared.contracts import energy
from shared.contracts.base import Envelope, utcnow
from shared.contracts.charging import (
    Booking,
    ChargerAvailability,
    ChargingBilled,
    ChargingSessionMetered,
    DepartureShortfall,
    EvBooked,
    EvPlanSubmitted,
)
from shared.contracts.energy import DispatchSetpoint, EnergyOrderCancelled, EnergyOrderPlaced, SiteForecast
from shared.runtime import Outgoing, Service, Timer
from shared.units import SLOT, kwh_to_wh, slot_start, wh_to_kwh

log = logging.getLogger("citymatch.charging")


def order_id(vehicle: str, slot: datetime, wh: int, trigger: str) -> str:
    """Deterministic per input (replaying the same inputs gives the same ids) and new after every re-plan that
    changes the order (the market never takes a cancelled id again)."""
    digest = hashlib.sha256(f"{vehicle}|{slot.isoformat()}|{wh}|{trigger}".encode()).hexdigest()[:32]
    return f"ev-{digest}"


class ChargingService:
    def __init__(self, settings: ChargingSettings | None = None, clock: Callable[[], datetime] | None = None):
        self.settings = settings or ChargingSettings()
        self.clock = clock or utcnow
        self.plans: dict[str, EvPlanSubmitted] = {}
        self.plan_seen_at: dict[str, datetime] = {}
        self.metered: dict[int, ChargingSessionMetered] = {}      # latest reading per transaction
        self.baseline_wh: dict[tuple[str, int], int] = {}        # (vehicle, transaction) -> Wh when plan came
        self.pv_wh: dict[str, dict[datetime, int]] = {}
        self.unavailable: set[str] = set()
        self.orders: dict[tuple[str, datetime], tuple[str, int, str]] = {}   # (car, slot) -> (id, Wh, who)
        self.setpoints: dict[tuple[str, datetime], tuple[int, str]] = {}      # (charger, slot) -> (Wh, who)
        self.booked: dict[str, EvBooked] = {}
        self.history = BookedEnergy()      # what every plan booked, kept after its slots pass (PV of a bill)
        self.last_plan: Plan | None = None
        self.last_frame: Frame | None = None
        self._t0: datetime | None = None

    # ------------------------------------------------------------------ handlers
    def on_plan(self, envelope: Envelope, payload: EvPlanSubmitted) -> Iterable[Outgoing]:
        self.plans[payload.vehicle] = payload
        self.plan_seen_at[payload.vehicle] = envelope.occurred_at
        for (vehicle, tx), _ in list(self.baseline_wh.items()):
            if vehicle == payload.vehicle:
                del self.baseline_wh[(vehicle, tx)]
        for tx, reading in self.metered.items():
            if reading.vehicle == payload.vehicle:
                self.baseline_wh[(payload.vehicle, tx)] = kwh_to_wh(reading.kwh)
        return self.replan(envelope.event_id)

    def on_forecast(self, envelope: Envelope, payload: SiteForecast) -> Iterable[Outgoing]:
        site = self.pv_wh.setdefault(payload.site, {})
        for k, kwh in enumerate(payload.pv_kwh):
            site[payload.start + k * SLOT] = kwh_to_wh(kwh)
        return self.replan(envelope.event_id)

    def on_session(self, envelope: Envelope, payload: ChargingSessionMetered) -> Iterable[Outgoing]:
        previous = self.metered.get(payload.transaction_id)
        if previous is not None and previous.kwh > payload.kwh:
            return []            # an older reading, redelivered
        self.metered[payload.transaction_id] = payload
        # The battery moved as planned or less; the next re-plan uses the meter. A finished transaction is
        # billed on what the meter delivered (settlement records one bill per charger and transaction).
        return self._bill(payload) if payload.final else []

    def _bill(self, reading: ChargingSessionMetered) -> list[Outgoing]:
        site = next((s for s in self.settings.sites if reading.charger in s.chargers), None)
        plan = self.plans.get(reading.vehicle)
        if site is None or plan is None:
            log.warning("charging transaction %s on %s: no %s known, not billed", reading.transaction_id,
                        reading.charger, "site" if site is None else f"owner of {reading.vehicle}")
            return []
        pv_wh = self.history.renewable_wh(reading.vehicle, reading.charger, reading.started_at, reading.read_at,
                                          kwh_to_wh(reading.kwh))
        return [Outgoing(ev.BILLS, ChargingBilled(
            charger=reading.charger, transaction_id=reading.transaction_id, vehicle=reading.vehicle,
            participant=plan.participant, site=site.id, kwh=reading.kwh, renewable_kwh=wh_to_kwh(pv_wh),
            fee_yen_per_kwh=site.fee_yen_per_kwh, stopped_at=reading.read_at))]

    def on_booked(self, envelope: Envelope, payload: EvBooked) -> Iterable[Outgoing]:
        """Our own plans read back: after a restart the slots already passed are known again, so a transaction
        that ends later is billed with the PV its plan booked (live, the record is already there)."""
        self._remember(payload)
        return []

    def _remember(self, booked: EvBooked) -> None:
        self.history.record(booked.vehicle, booked.planned_at, (
            BookedCell(b.charger, b.slot, kwh_to_wh(b.kwh), kwh_to_wh(b.renewable_kwh)) for b in booked.bookings))

    def on_charger(self, envelope: Envelope, payload: ChargerAvailability) -> Iterable[Outgoing]:
        was = payload.charger in self.unavailable
        if payload.available:
            self.unavailable.discard(payload.charger)
        else:
            self.unavailable.add(payload.charger)
        if was == (not payload.available):
            return []
        log.info("charger %s %s (%s): re-planning", payload.charger,
                 "back" if payload.available else "out", payload.reason)
        return self.replan(envelope.event_id)

    def tick(self) -> Iterable[Outgoing]:
        """A new slot opened for orders: re-plan the rest of the horizon."""
        if self._t0 is not None and self._first_open_slot() != self._t0 and self.plans:
            return self.replan(f"tick-{self._first_open_slot().isoformat()}")
        return []

    # ------------------------------------------------------------------ planning
    def _first_open_slot(self) -> datetime:
        return slot_start(self.clock() + self.settings.gate_closure) + SLOT

    def delivered_since_plan(self) -> dict[str, int]:
        """Wh each car took since its owner's plan (whose charge figure already counts what came before)."""
        out: dict[str, int] = {}
        for tx, reading in self.metered.items():
            base = self.baseline_wh.get((reading.vehicle, tx), 0)
            out[reading.vehicle] = out.get(reading.vehicle, 0) + kwh_to_wh(reading.kwh) - base
        return out

    def replan(self, trigger: str) -> list[Outgoing]:
        t0 = self._first_open_slot()
        self._t0 = t0
        frame = build_frame(self.settings, t0, list(self.plans.values()), self.delivered_since_plan(),
                            self.pv_wh, self.unavailable)
        result = plan(frame.fleet)
        self.last_plan, self.last_frame = result, frame
        out: list[Outgoing] = []
        out += self._bookings(frame, result)
        out += self._orders(frame, result, trigger)
        out += self._setpoints(frame, result)
        return out

    def _bookings(self, frame: Frame, result: Plan) -> list[Outgoing]:
        f, c = frame.fleet, result.cells
        answers = {a.vehicle: [] for a in shortfalls(result)}
        for a in shortfalls(result):
            answers[a.vehicle].append(DepartureShortfall(
                depart=frame.slot(a.depart), need_kwh=wh_to_kwh(a.need_wh), missing_kwh=wh_to_kwh(a.missing_wh),
                feasible_depart=frame.slot(a.feasible_depart) if a.feasible_depart is not None else None))
        costs = result.energy_cost_sen_wh()
        overrides = override_costs(f, result)
        out = []
        for i, (veh, p) in enumerate(zip(f.vehicles, frame.plans, strict=True)):
            mine = np.nonzero((c.v == i) & (result.charger >= 0))[0]
            bookings = tuple(Booking(charger=frame.chargers[f.sites[int(c.s[k])].id][int(result.charger[k])],
                                     slot=frame.slot(int(c.t[k])), kwh=wh_to_kwh(int(result.charge_wh[k])),
                                     renewable_kwh=wh_to_kwh(int(result.pv_wh[k])))
                             for k in mine if result.charge_wh[k] > 0)
            lacking = tuple(answers.get(veh.id, ()))
            booked = EvBooked(vehicle=veh.id, participant=p.participant,
                              status="infeasible" if lacking else "planned", bookings=bookings, shortfalls=lacking,
                              cost_yen=yen(costs[i]),
                              override_cost_yen=yen(overrides[veh.id]) if veh.id in overrides else None,
                              planned_at=frame.t0)
            previous = self.booked.get(veh.id)
            if previous is None or previous.model_dump(exclude={"planned_at"}) != booked.model_dump(
                    exclude={"planned_at"}):
                out.append(Outgoing(ev.BOOKINGS, booked))
            self.booked[veh.id] = booked
            self._remember(booked)
        return out

    def _orders(self, frame: Frame, result: Plan, trigger: str) -> list[Outgoing]:
        f, c = frame.fleet, result.cells
        wanted: dict[tuple[str, datetime], tuple[int, str, str]] = {}
        for k in np.nonzero(result.charge_wh > 0)[0]:
            i, t = int(c.v[k]), int(c.t[k])
            key = (f.vehicles[i].id, frame.slot(t))
            wh, _, _ = wanted.get(key, (0, "", ""))
            wanted[key] = (wh + int(result.charge_wh[k]), frame.plans[i].participant, f.sites[int(c.s[k])].id)
        out: list[Outgoing] = []
        for key, (oid, wh, who) in list(self.orders.items()):
            if key[1] < frame.t0:
                del self.orders[key]                 # executed or past its gate: no longer ours to change
            elif wanted.get(key, (None,))[0] != wh:
                out.append(Outgoing(energy.ORDERS, EnergyOrderCancelled(order_id=oid, participant=who,
                                                                          slot=key[1])))
                del self.orders[key]
        tz_hours = {t: self._price(t) for t in {k[1] for k in wanted}}
        for key, (wh, who, site) in sorted(wanted.items()):
            if key in self.orders:
                continue
            oid = order_id(key[0], key[1], wh, trigger)
            veh = f.vehicles[[v.id for v in f.vehicles].index(key[0])]
            out.append(Outgoing(energy.ORDERS, EnergyOrderPlaced(
                order_id=oid, participant=who, side="buy", slot=key[1], kwh=wh_to_kwh(wh),
                limit_price=tz_hours[key[1]] + self.settings.order_margin_yen, site=site,
                renewable=veh.preference.value == "green", placed_at=self.clock())))
            self.orders[key] = (oid, wh, who)
        return out

    def _price(self, slot: datetime) -> Decimal:
        from zoneinfo import ZoneInfo

        return self.settings.buy_yen[slot.astimezone(ZoneInfo(self.settings.timezone)).hour]

    def _setpoints(self, frame: Frame, result: Plan) -> list[Outgoing]:
        f, c = frame.fleet, result.cells
        wanted: dict[tuple[str, datetime], tuple[int, str]] = {}
        for k in np.nonzero(result.charger >= 0)[0]:
            charger = frame.chargers[f.sites[int(c.s[k])].id][int(result.charger[k])]
            wanted[(charger, frame.slot(int(c.t[k])))] = (int(result.charge_wh[k] - result.discharge_wh[k]),
                                                          frame.plans[int(c.v[k])].participant)
        out: list[Outgoing] = []
        for key in [k for k in self.setpoints if k[1] < frame.t0]:
            del self.setpoints[key]
        for key in sorted(set(self.setpoints) | set(wanted)):
            new = wanted.get(key, (0, self.setpoints.get(key, (0, ""))[1]))
            if self.setpoints.get(key) == new:
                continue
            out.append(Outgoing(energy.DISPATCH, DispatchSetpoint(device=key[0], participant=new[1], slot=key[1],
                                                                    kwh=wh_to_kwh(new[0]))))
            if key in wanted:
                self.setpoints[key] = new
            else:
                del self.setpoints[key]
        return out


def build_service(settings: ChargingSettings | None = None, clock: Callable[[], datetime] | None = None) -> Service:
    charging = ChargingService(settings, clock)
    window = timedelta(days=2)
    service = Service(
        name="charging",
        handlers={ev.PLANS: {EvPlanSubmitted: charging.on_plan},
                  energy.FORECASTS: {SiteForecast: charging.on_forecast},
                  ev.SESSIONS: {ChargingSessionMetered: charging.on_session},
                  ev.CHARGERS: {ChargerAvailability: charging.on_charger},
                  ev.BOOKINGS: {EvBooked: charging.on_booked}},
        timers=[Timer(interval_s=charging.settings.timer_interval_s, tick=charging.tick)],
        replay={ev.PLANS: window, energy.FORECASTS: window, ev.SESSIONS: window, ev.CHARGERS: window,
                ev.BOOKINGS: window},
    )
    service.charging = charging  # type: ignore[attr-defined]
    return service


