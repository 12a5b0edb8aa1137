"""The OCPP 1.6J central system: chargers connect over WebSocket, receive set-points, report what they deliver.

Each charge point connects to ``ws://host:port/<charge point id>`` with subprotocol ``ocpp1.6``. We answer
BootNotification, Heartbeat, StatusNotification, StartTransaction, MeterValues and StopTransaction, keep the
metered sessions (``domain.metering``) and tell the caller through ``on_event``; ``send_profile`` sends
SetChargingProfile and returns the charge point's answer. A charger that is not connected, does not answer
in time or refuses the profile yields a status other than ``Accepted``; the caller decides what follows.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import websockets
from ocpp.routing import on
from ocpp.v16 import ChargePoint as OcppChargePoint
from ocpp.v16 import call, call_result
from ocpp.v16.enums import Action, AuthorizationStatus, RegistrationStatus

from services.charging.domain.metering import Meter, MeterError, Session

log = logging.getLogger("citymatch.charging.ocpp")
SUBPROTOCOL = "ocpp1.6"


@dataclass(frozen=True)
class ChargerEvent:
    """Something a charger said: ``kind`` is connected, disconnected, status, started, meter or stopped."""

    kind: str
    charger: str
    at: datetime
    status: str | None = None
    session: Session | None = None


def _now() -> datetime:
    return datetime.now(UTC)


def _parse_time(value: str | None) -> datetime:
    if not value:
        return _now()
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def energy_register_wh(meter_value: list[dict[str, Any]]) -> int | None:
    """The last Energy.Active.Import.Register reading in a MeterValues payload, in Wh."""
    found = None
    for sample in meter_value:
        for value in sample.get("sampled_value", []):
            if value.get("measurand", "Energy.Active.Import.Register") != "Energy.Active.Import.Register":
                continue
            wh = float(value["value"]) * (1000 if value.get("unit") == "kWh" else 1)
            found = round(wh)
    return found


class ChargerLink(OcppChargePoint):
    """Our side of one charge point's connection."""

    def __init__(self, charger_id: str, connection, central: CentralSystem):
        super().__init__(charger_id, connection, response_timeout=central.response_timeout)
        self.central = central

    @on(Action.boot_notification)
    def on_boot(self, charge_point_vendor: str, charge_point_model: str, **_: Any):
        return call_result.BootNotification(current_time=_now().isoformat(), interval=300,
                                            status=RegistrationStatus.accepted)

    @on(Action.heartbeat)
    def on_heartbeat(self, **_: Any):
        return call_result.Heartbeat(current_time=_now().isoformat())

    @on(Action.status_notification)
    def on_status(self, connector_id: int, error_code: str, status: str, **_: Any):
        self.central.emit(ChargerEvent("status", self.id, _now(), status=status))
        return call_result.StatusNotification()

    @on(Action.start_transaction)
    def on_start(self, connector_id: int, id_tag: str, meter_start: int, timestamp: str, **_: Any):
        session = self.central.meter.start(self.id, connector_id, id_tag, meter_start, _parse_time(timestamp))
        self.central.emit(ChargerEvent("started", self.id, session.started_at, session=session))
        return call_result.StartTransaction(transaction_id=session.transaction_id,
                                            id_tag_info={"status": AuthorizationStatus.accepted})

    @on(Action.meter_values)
    def on_meter(self, connector_id: int, meter_value: list, transaction_id: int | None = None, **_: Any):
        wh = energy_register_wh(meter_value)
        if transaction_id is not None and wh is not None:
            try:
                session = self.central.meter.reading(transaction_id, wh, _now())
                self.central.emit(ChargerEvent("meter", self.id, session.last_at, session=session))
            except MeterError as exc:
                log.warning("charger %s: %s", self.id, exc)
        return call_result.MeterValues()

    @on(Action.stop_transaction)
    def on_stop(self, meter_stop: int, timestamp: str, transaction_id: int, **_: Any):
        try:
            session = self.central.meter.stop(transaction_id, meter_stop, _parse_time(timestamp))
            self.central.emit(ChargerEvent("stopped", self.id, session.stopped_at or _now(), session=session))
        except MeterError as exc:
            log.warning("charger %s: %s", self.id, exc)
        return call_result.StopTransaction(id_tag_info={"status": AuthorizationStatus.accepted})


class CentralSystem:
    """The WebSocket server and the links to every connected charge point."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0,
                 on_event: Callable[[ChargerEvent], None] | None = None, response_timeout: float = 10.0):
        self.host, self.port = host, port
        self.on_event = on_event
        self.response_timeout = response_timeout
        self.meter = Meter()
        self.links: dict[str, ChargerLink] = {}
        self._server = None

    def emit(self, event: ChargerEvent) -> None:
        if self.on_event is not None:
            self.on_event(event)

    async def start(self) -> CentralSystem:
        self._server = await websockets.serve(self._serve, self.host, self.port, subprotocols=[SUBPROTOCOL])
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    @property
    def url(self) -> str:
        return f"ws://{self.host}:{self.port}"

    async def _serve(self, connection) -> None:
        charger_id = connection.request.path.strip("/")
        if connection.subprotocol != SUBPROTOCOL or not charger_id:
            await connection.close(1002, "OCPP 1.6J only, at /<charge point id>")
            return
        link = ChargerLink(charger_id, connection, self)
        self.links[charger_id] = link
        self.emit(ChargerEvent("connected", charger_id, _now()))
        try:
            await link.start()
        except websockets.ConnectionClosed:
            pass
        finally:
            if self.links.get(charger_id) is link:
                del self.links[charger_id]
            self.emit(ChargerEvent("disconnected", charger_id, _now()))

    async def send_profile(self, charger_id: str, connector_id: int, profile: dict) -> str:
        """SetChargingProfile; returns Accepted, Rejected, NotSupported, Offline or Timeout."""
        link = self.links.get(charger_id)
        if link is None:
            return "Offline"
        try:
            result = await link.call(call.SetChargingProfile(connector_id=connector_id, cs_charging_profiles=profile))
        except TimeoutError:
            return "Timeout"
        except websockets.ConnectionClosed:
            return "Offline"
        return str(getattr(result.status, "value", result.status))
