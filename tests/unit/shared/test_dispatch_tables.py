"""Dispatch tables (payload type -> handler) are checked against the catalogue when a service is built."""

from __future__ import annotations

from datetime import timedelta

import pytest

from services.market.service import build_service as build_market
from shared.bus.dispatch import deliver
from shared.contracts.base import Envelope, Topic
from shared.contracts.codec import encode
from shared.contracts.energy import (
    DISPATCH_ACKS,
    ORDERS,
    TRADES,
    DispatchAcknowledged,
    EnergyOrderCancelled,
    EnergyOrderPlaced,
    GateClosed,
    TradeMatched,
)
from shared.runtime import DispatchError, Service, ignore

ALL_ORDERS = {EnergyOrderPlaced: ignore, EnergyOrderCancelled: ignore, GateClosed: ignore}


def test_a_table_missing_a_payload_type_the_topic_carries_is_refused():
    """A new payload on a topic cannot be dropped unnoticed: the service names what it does not handle."""
    with pytest.raises(DispatchError, match=r"no handler for EnergyOrderCancelled on energy.orders"):
        Service("toy", {ORDERS: {EnergyOrderPlaced: ignore, GateClosed: ignore}})


def test_a_handler_for_a_type_the_topic_does_not_carry_is_refused():
    with pytest.raises(DispatchError, match=r"handles TradeMatched on energy.orders"):
        Service("toy", {ORDERS: {**ALL_ORDERS, TradeMatched: ignore}})


def test_a_topic_outside_the_catalogue_is_refused():
    stray = Topic("energy.elsewhere", key="slot", payloads=(GateClosed,))
    with pytest.raises(DispatchError, match="not a catalogue topic"):
        Service("toy", {stray: {GateClosed: ignore}})


def test_batch_handlers_and_replay_need_a_table_for_their_topic():
    with pytest.raises(DispatchError, match=r"batch handler for energy.trades"):
        Service("toy", {ORDERS: ALL_ORDERS}, batch_handlers={TRADES: lambda batch: [[] for _ in batch]})
    with pytest.raises(DispatchError, match=r"replays energy.dispatch.acks"):
        Service("toy", {ORDERS: ALL_ORDERS}, replay={DISPATCH_ACKS: timedelta(hours=1)})


def test_each_payload_type_reaches_its_own_handler():
    """The table, not an isinstance chain, decides which handler runs."""
    calls: list[str] = []
    service = Service("toy", {ORDERS: {EnergyOrderPlaced: lambda e, p: calls.append("place") or [],
                                       EnergyOrderCancelled: lambda e, p: calls.append("cancel") or [],
                                       GateClosed: lambda e, p: calls.append("gate") or []}})
    slot = "2026-11-28T10:00:00Z"
    for payload in (GateClosed(slot=slot), EnergyOrderCancelled(order_id="o", participant="p", slot=slot)):
        assert deliver(service, ORDERS.name, encode(Envelope.wrap(payload, "t"))).dead_letter_reason is None
    assert calls == ["gate", "cancel"]


def test_the_real_services_pass_the_start_check():
    """The market's table covers both topics it reads (the check runs when it is built)."""
    market = build_market()
    assert set(market.handlers) == {ORDERS, DISPATCH_ACKS}
    assert set(market.handlers[DISPATCH_ACKS]) == {DispatchAcknowledged}


def test_charging_reads_its_plans_forecasts_sessions_chargers_and_own_bookings_through_one_table_each():
    """The charging service's tables cover the five topics it reads (its own bookings read back after a restart,
    for the PV part of a bill), each payload type to its handler."""
    from services.charging.service import build_service as build_charging
    from shared.contracts import charging, energy

    service = build_charging()
    assert set(service.handlers) == {charging.PLANS, energy.FORECASTS, charging.SESSIONS, charging.CHARGERS,
                                     charging.BOOKINGS}
    assert set(service.replay) == set(service.handlers)


def test_mobility_and_logistics_read_each_others_topics_for_the_coowned_cars():
    """Mobility reads its requests, its own assignments and the group's topic back, the charging meter and bills,
    and logistics' assignments (a group car's delivery payout); logistics reads its requests, the shops' days,
    mobility.coowned (the cars' calendar, replayed at start like its shop days) and mobility's assignments (the
    ride vehicles' idle stretches and the answers to its rounds on them, replayed too)."""
    from services.logistics.service import build_service as build_logistics
    from services.mobility.service import build_service as build_mobility
    from shared.contracts import charging, logistics, mobility
    from shared.contracts.logistics import ParcelDelivered
    from shared.roads import load_drive_network

    network = load_drive_network()
    rides = build_mobility(network)
    assert set(rides.handlers) == {mobility.REQUESTS, mobility.ASSIGNMENTS, mobility.COOWNED, charging.SESSIONS,
                                   charging.BILLS, logistics.ASSIGNMENTS}
    assert [t for t, fn in rides.handlers[logistics.ASSIGNMENTS].items() if fn is not ignore] == [ParcelDelivered]
    parcels = build_logistics(network)
    assert set(parcels.handlers) == {logistics.REQUESTS, logistics.ASSIGNMENTS, logistics.SHOP_DAYS, mobility.COOWNED,
                                     mobility.ASSIGNMENTS}
    # replayed in order: the cars' calendar and the ride vehicles' offers, the shops' days, then our own plans
    # before the parcels' requests (a parcel planned before a restart is open again, not re-planned)
    assert list(parcels.replay) == [mobility.COOWNED, mobility.ASSIGNMENTS, logistics.SHOP_DAYS, logistics.ASSIGNMENTS,
                                    logistics.REQUESTS]
    # of mobility's assignments, logistics reads only the ride vehicles' offers and the answers to its rounds
    assert {t for t, fn in parcels.handlers[mobility.ASSIGNMENTS].items() if fn is not ignore} == {
        mobility.VehicleWindowsOffered, mobility.FleetJobAnswered}
