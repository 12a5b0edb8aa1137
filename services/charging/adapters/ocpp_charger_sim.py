"""A simulated charge point that speaks real OCPP 1.6J to the central system (for tests, bench and demo).

It boots, reports its status, starts a transaction when a car plugs in, meters energy at the power its
charging profile allows (on a simulated clock: ``time_scale`` simulated seconds per real second), and stops
the transaction when the car leaves. Behaviours for fault tests: ``refuse_profiles`` answers
SetChargingProfile with Rejected; ``drop_after_readings`` closes the WebSocket mid-session after that many
meter readings (it can ``reconnect`` later and go on metering the same transaction).
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime
from typing import Any

import websockets
from ocpp.routing import on
from ocpp.v16 import ChargePoint as OcppChargePoint
from ocpp.v16 import call, call_result
from ocpp.v16.enums import Action, ChargePointErrorCode, ChargePointStatus, ChargingProfileStatus

from services.charging.adapters.ocpp_central import SUBPROTOCOL


class _Protocol(OcppChargePoint):
    def __init__(self, sim: SimulatedChargePoint, connection):
        super().__init__(sim.id, connection, response_timeout=10)
        self.sim = sim

    @on(Action.set_charging_profile)
    def on_profile(self, connector_id: int, cs_charging_profiles: dict, **_: Any):
        self.sim.profiles_received += 1
        if self.sim.refuse_profiles:
            return call_result.SetChargingProfile(status=ChargingProfileStatus.rejected)
        period = cs_charging_profiles["charging_schedule"]["charging_schedule_period"][0]
        self.sim.limit_w = float(period["limit"])
        self.sim.profile_ids.append(int(cs_charging_profiles["charging_profile_id"]))
        return call_result.SetChargingProfile(status=ChargingProfileStatus.accepted)


class SimulatedChargePoint:
    def __init__(self, charger_id: str, central_url: str, *, max_w: float = 7000.0, time_scale: float = 1.0,
                 refuse_profiles: bool = False, drop_after_readings: int | None = None):
        self.id = charger_id
        self.url = f"{central_url}/{charger_id}"
        self.max_w = max_w
        self.time_scale = time_scale
        self.refuse_profiles = refuse_profiles
        self.drop_after_readings = drop_after_readings
        self.limit_w = 0.0
        self.register_wh = 0.0
        self.readings = 0
        self.profiles_received = 0
        self.profile_ids: list[int] = []
        self.transaction_id: int | None = None
        self._protocol: _Protocol | None = None
        self._connection = None
        self._listener: asyncio.Task | None = None
        self.connected = asyncio.Event()

    # ------------------------------------------------------------------ connection
    async def connect(self) -> SimulatedChargePoint:
        self._connection = await websockets.connect(self.url, subprotocols=[SUBPROTOCOL])
        self._protocol = _Protocol(self, self._connection)
        self._listener = asyncio.create_task(self._listen())
        await self._protocol.call(call.BootNotification(charge_point_model="sim-1", charge_point_vendor="citymatch"))
        await self._status(ChargePointStatus.available)
        self.connected.set()
        return self

    async def _listen(self) -> None:
        with contextlib.suppress(websockets.ConnectionClosed):
            await self._protocol.start()

    async def disconnect(self) -> None:
        self.connected.clear()
        if self._connection is not None:
            await self._connection.close()
        if self._listener is not None:
            with contextlib.suppress(asyncio.CancelledError, websockets.ConnectionClosed):
                await self._listener

    async def reconnect(self) -> None:
        await self.connect()

    async def _status(self, status: ChargePointStatus) -> None:
        await self._protocol.call(call.StatusNotification(connector_id=1, error_code=ChargePointErrorCode.no_error,
                                                          status=status))

    # ------------------------------------------------------------------ a car's session
    async def plug_in(self, vehicle: str) -> int:
        await self._status(ChargePointStatus.preparing)
        result = await self._protocol.call(call.StartTransaction(
            connector_id=1, id_tag=vehicle[:20], meter_start=round(self.register_wh),
            timestamp=datetime.now(UTC).isoformat()))
        self.transaction_id = int(result.transaction_id)
        await self._status(ChargePointStatus.charging)
        return self.transaction_id

    async def run_for(self, real_seconds: float, readings: int) -> None:
        """Meter for ``real_seconds`` (``readings`` MeterValues), charging at the profile's limit."""
        step = real_seconds / readings
        for _ in range(readings):
            await asyncio.sleep(step)
            self.register_wh += min(self.limit_w, self.max_w) * step * self.time_scale / 3600.0
            await self.send_reading()
            if self.drop_after_readings is not None and self.readings >= self.drop_after_readings:
                self.drop_after_readings = None
                await self.disconnect()
                return

    async def send_reading(self) -> None:
        self.readings += 1
        await self._protocol.call(call.MeterValues(connector_id=1, transaction_id=self.transaction_id, meter_value=[{
            "timestamp": datetime.now(UTC).isoformat(),
            "sampledValue": [{"value": f"{self.register_wh:.0f}", "measurand": "Energy.Active.Import.Register",
                              "unit": "Wh"}]}]))

    async def unplug(self) -> None:
        await self._protocol.call(call.StopTransaction(meter_stop=round(self.register_wh),
                                                       timestamp=datetime.now(UTC).isoformat(),
                                                       transaction_id=self.transaction_id))
        await self._status(ChargePointStatus.available)
        self.transaction_id = None


async def run_many(central_url: str, count: int, prefix: str = "cp") -> None:
    """Connect ``count`` simulated charge points and keep them answering until cancelled."""
    sims = [SimulatedChargePoint(f"{prefix}-{k:03d}", central_url) for k in range(count)]
    await asyncio.gather(*(sim.connect() for sim in sims))
    try:
        await asyncio.Event().wait()
    finally:
        await asyncio.gather(*(sim.disconnect() for sim in sims), return_exceptions=True)


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description="simulated OCPP 1.6J charge points on loopback")
    parser.add_argument("--central", required=True, help="ws://127.0.0.1:PORT of the central system")
    parser.add_argument("--count", type=int, default=100)
    parser.add_argument("--prefix", default="cp")
    args = parser.parse_args()
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run_many(args.central, args.count, args.prefix))
