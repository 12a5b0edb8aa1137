"""OCPP 1.6J over real WebSockets on 127.0.0.1: profiles out, transactions and meter readings back."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from services.charging.adapters.ocpp_central import CentralSystem, ChargerEvent
from services.charging.adapters.ocpp_charger_sim import SimulatedChargePoint
from services.charging.domain.profiles import limit_w, slot_profile

SLOT = datetime(2026, 12, 2, 3, 0, tzinfo=UTC)


async def _until(predicate, timeout: float = 5.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.01)


def test_profile_accepted_and_metered_energy_is_what_the_charger_delivered():
    """A 2.5 kWh slot becomes a 5 kW limit; the charge point meters at that power on its simulated clock
    (1 real second = 360 s): 0.5 s of charging delivers 250 Wh, which the central system's session shows."""
    async def scenario():
        events: list[ChargerEvent] = []
        central = await CentralSystem(on_event=events.append).start()
        cp = await SimulatedChargePoint("office-01", central.url, time_scale=360).connect()
        await _until(lambda: "office-01" in central.links)
        profile = slot_profile(SLOT, 2500)
        assert limit_w(profile) == 5000.0
        assert await central.send_profile("office-01", 1, profile) == "Accepted"
        assert cp.limit_w == 5000.0
        await cp.plug_in("ev-0001")
        await cp.run_for(0.5, readings=5)
        await cp.unplug()
        await _until(lambda: any(e.kind == "stopped" for e in events))
        [session] = central.meter.sessions.values()
        await cp.disconnect()
        await central.stop()
        return session, [e.kind for e in events]

    session, kinds = asyncio.run(scenario())
    assert session.vehicle == "ev-0001" and not session.open
    assert 240 <= session.delivered_wh <= 260
    assert kinds[0] == "connected" and "started" in kinds and kinds.count("meter") == 5


def test_a_charge_point_that_refuses_the_profile_is_reported():
    """SetChargingProfile answered with Rejected comes back as Rejected; an unknown charger as Offline."""
    async def scenario():
        central = await CentralSystem().start()
        cp = await SimulatedChargePoint("stubborn", central.url, refuse_profiles=True).connect()
        await _until(lambda: "stubborn" in central.links)
        answers = (await central.send_profile("stubborn", 1, slot_profile(SLOT, 1000)),
                   await central.send_profile("nobody", 1, slot_profile(SLOT, 1000)))
        await cp.disconnect()
        await central.stop()
        return answers, cp.limit_w

    (refused, offline), applied = asyncio.run(scenario())
    assert refused == "Rejected" and offline == "Offline" and applied == 0.0


def test_disconnect_mid_session_keeps_the_last_reading_and_resumes():
    """A charger that drops after 2 readings leaves its session open at its last reading (what is billed
    if it never returns); a profile sent meanwhile is Offline; after reconnecting it meters on and stops."""
    async def scenario():
        events: list[ChargerEvent] = []
        central = await CentralSystem(on_event=events.append).start()
        cp = await SimulatedChargePoint("flaky", central.url, time_scale=360, drop_after_readings=2).connect()
        await _until(lambda: "flaky" in central.links)
        assert await central.send_profile("flaky", 1, slot_profile(SLOT, 3500)) == "Accepted"
        await cp.plug_in("ev-0002")
        await cp.run_for(0.4, readings=4)          # drops after the 2nd reading
        await _until(lambda: "flaky" not in central.links)
        [session] = central.meter.sessions.values()
        during = (session.open, session.delivered_wh, await central.send_profile("flaky", 1, slot_profile(SLOT, 1)))
        await cp.reconnect()
        await cp.run_for(0.2, readings=2)
        await cp.unplug()
        await _until(lambda: not central.meter.sessions[session.transaction_id].open)
        final = central.meter.sessions[session.transaction_id]
        await cp.disconnect()
        await central.stop()
        return during, final, [e.kind for e in events]

    (was_open, wh_at_drop, status), final, kinds = asyncio.run(scenario())
    assert was_open and status == "Offline"
    assert 130 <= wh_at_drop <= 150                 # 2 readings x 0.1 s x 360 x 7 kW / 3600
    assert final.delivered_wh > wh_at_drop and not final.open
    assert "disconnected" in kinds and kinds.count("connected") == 2
