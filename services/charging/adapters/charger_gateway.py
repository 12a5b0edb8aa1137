"""The charger gateway: Kafka on one side, OCPP 1.6J charge points on the other.

Set-points for our chargers (``energy.dispatch`` DispatchSetpoint whose device is a charger of a configured
site) become SetChargingProfile; an Accepted answer becomes ``energy.dispatch.acks`` DispatchAcknowledged.
A charger that refuses a profile or is not connected is reported on ``ev.chargers`` (ChargerAvailability),
so the planner re-plans without it; set-points for an offline charger wait and are sent when it connects
(if their slot has not ended). Meter readings and stopped transactions go to ``ev.sessions``
(ChargingSessionMetered): what was delivered is what is billed. The dispatch offset is committed only
after a set-point was handled, so a crashed gateway sends it again (profiles are idempotent per slot). A
dispatch record that does not decode is dead-lettered to ``energy.dispatch.dlq`` with the reason in its
headers (acknowledged before the offset is committed) and counted in ``citymatch_dead_lettered_total``,
which its web port serves on ``/metrics`` beside ``/health`` and ``/ready``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from decimal import Decimal
from functools import partial
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.errors import KafkaError

from services.charging.adapters.ocpp_central import CentralSystem, ChargerEvent
from services.charging.domain.profiles import slot_profile
from shared.bus.dispatch import count_dead_letter, dead_letter_headers
from shared.bus.readiness import broker_answers
from shared.contracts import charging as ev
from shared.contracts import energy
from shared.contracts.base import Envelope
from shared.contracts.charging import ChargerAvailability, ChargingSessionMetered
from shared.contracts.codec import decode, encode
from shared.contracts.energy import DispatchAcknowledged, DispatchSetpoint
from shared.errors import EventDecodeError
from shared.metrics import ServiceMetrics
from shared.runtime import Outgoing
from shared.units import SLOT, kwh_to_wh, wh_to_kwh

log = logging.getLogger("citymatch.charging.gateway")
PRODUCER = "charger-gateway"
PROBE_EVERY_S, PROBE_TIMEOUT_S = 1.0, 2.0  # as the Faust workers' readiness (shared/bus/readiness.py)
RETRY_FIRST_S, RETRY_MAX_S = 0.2, 5.0


class ChargerGateway:
    def __init__(self, kafka: str, chargers: set[str], ocpp_host: str = "127.0.0.1", ocpp_port: int = 0,
                 web_port: int = 0):
        self.kafka = kafka
        self.chargers = chargers
        self.central = CentralSystem(ocpp_host, ocpp_port, on_event=self._on_charger)
        self.web_port = web_port
        self.outbox: asyncio.Queue[Outgoing] = asyncio.Queue()
        self.pending: dict[tuple[str, datetime], DispatchSetpoint] = {}
        self.reported_out: set[str] = set()
        self.producer: AIOKafkaProducer | None = None
        self.started = False
        self.broker_ok = False
        self.publish_failing = False
        self.metrics = ServiceMetrics(PRODUCER)

    @property
    def ready(self) -> bool:
        """Started, the broker answers, and what chargers report is reaching it."""
        return self.started and self.broker_ok and not self.publish_failing

    # ------------------------------------------------------------------ charger side
    def _on_charger(self, event: ChargerEvent) -> None:
        if event.kind == "connected":
            if event.charger in self.reported_out:
                self.reported_out.discard(event.charger)
                self.outbox.put_nowait(Outgoing(ev.CHARGERS, ChargerAvailability(
                    charger=event.charger, available=True, reason="connected")))
            asyncio.get_running_loop().create_task(self._flush(event.charger))
        elif event.kind == "disconnected":
            self._report_out(event.charger, "disconnected")
        elif event.session is not None and event.kind in ("meter", "stopped", "started"):
            s = event.session
            self.outbox.put_nowait(Outgoing(ev.SESSIONS, ChargingSessionMetered(
                charger=s.charger, vehicle=s.vehicle, transaction_id=s.transaction_id,
                kwh=wh_to_kwh(s.delivered_wh), started_at=s.started_at, read_at=s.last_at,
                final=not s.open)))

    def _report_out(self, charger: str, reason: str) -> None:
        if charger in self.chargers and charger not in self.reported_out:
            self.reported_out.add(charger)
            self.outbox.put_nowait(Outgoing(ev.CHARGERS, ChargerAvailability(charger=charger, available=False,
                                                                            reason=reason)))

    async def _flush(self, charger: str) -> None:
        for key in sorted(k for k in self.pending if k[0] == charger):
            await self.apply(self.pending.pop(key))

    async def apply(self, sp: DispatchSetpoint) -> str:
        """Send one set-point to its charger; what happened is published, nothing is raised."""
        if sp.slot + SLOT <= datetime.now(UTC):
            return "Past"
        # OCPP 1.6J carries charging rates only: a discharge set-point becomes "do not charge", and the
        # acknowledgement says what was applied (0), never the discharge that was asked for
        applied = max(sp.kwh, Decimal(0))
        if sp.kwh < 0:
            log.warning("%s: a discharge set-point (%s kWh) cannot be sent over OCPP 1.6J; sending 0", sp.device,
                        sp.kwh)
        status = await self.central.send_profile(sp.device, 1, slot_profile(sp.slot, kwh_to_wh(applied)))
        if status == "Accepted":
            self.outbox.put_nowait(Outgoing(energy.DISPATCH_ACKS, DispatchAcknowledged(
                device=sp.device, participant=sp.participant, slot=sp.slot, kwh_applied=applied)))
        elif status in ("Offline", "Timeout"):
            self.pending[(sp.device, sp.slot)] = sp
            self._report_out(sp.device, "not connected")
        else:
            self._report_out(sp.device, f"refused a charging profile ({status})")
        return status

    # ------------------------------------------------------------------ Kafka side
    async def _publish_loop(self) -> None:
        """Publish what chargers reported, in order. A record the broker does not take is retried until it
        does (the gateway is not ready meanwhile): a metered kWh is what gets billed, so none is dropped."""
        while True:
            out = await self.outbox.get()
            envelope = Envelope.wrap(out.payload, PRODUCER)
            await self._until_done(f"publishing to {out.topic.name}", partial(
                self.producer.send_and_wait, out.topic.name, encode(envelope), key=envelope.key.encode()))

    async def _until_done(self, what: str, attempt: Callable[[], Awaitable[object]]) -> None:
        """``attempt`` again, with back-off, until the broker takes it; not ready meanwhile."""
        delay = RETRY_FIRST_S
        while True:
            try:
                await attempt()
                break
            except KafkaError as exc:
                if not self.publish_failing:
                    log.warning("%s failed, retrying: %r", what, exc)
                self.publish_failing = True
                await asyncio.sleep(delay)
                delay = min(delay * 2, RETRY_MAX_S)
        self.publish_failing = False

    async def _probe_loop(self) -> None:
        while True:
            self.broker_ok = await broker_answers(self.kafka, PROBE_TIMEOUT_S)
            await asyncio.sleep(PROBE_EVERY_S)

    async def _consume_loop(self, consumer: AIOKafkaConsumer) -> None:
        async for record in consumer:
            self.metrics.messages_in.labels(PRODUCER, energy.DISPATCH.name).inc()
            try:
                _, payload = decode(record.value, energy.DISPATCH, record.key)
            except EventDecodeError as exc:
                await self._dead_letter(record, f"undecodable message on {energy.DISPATCH.name}: {exc}")
                payload = None
            if isinstance(payload, DispatchSetpoint) and payload.device in self.chargers:
                await self.apply(payload)
            await self._until_done(f"committing {energy.DISPATCH.name}", consumer.commit)

    async def _dead_letter(self, record: Any, reason: str) -> None:
        """The record as it came, on the topic's dead-letter topic with the reason; acknowledged before the
        caller commits its offset."""
        count_dead_letter(self.metrics, PRODUCER, energy.DISPATCH.name, reason)
        headers = dead_letter_headers(reason, "decode", energy.DISPATCH.name, record.partition, record.offset,
                                      PRODUCER)
        await self._until_done(f"dead-lettering to {energy.DISPATCH.dlq}", partial(
            self.producer.send_and_wait, energy.DISPATCH.dlq, record.value, key=record.key, headers=headers))

    async def _web(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        request = (await reader.readline()).decode(errors="replace")
        with contextlib.suppress(Exception):
            while (await reader.readline()) not in (b"\r\n", b""):
                pass
        ok = self.ready if " /ready" in request else True
        body = b'{"service": "charger-gateway", "ready": %s}' % (b"true" if ok else b"false")
        kind = b"application/json"
        if " /metrics" in request:
            body, kind, ok = self.metrics.render(), b"text/plain; version=0.0.4", True
        status = b"200 OK" if ok else b"503 Service Unavailable"
        writer.write(b"HTTP/1.1 " + status + b"\r\ncontent-type: " + kind + b"\r\ncontent-length: "
                     + str(len(body)).encode() + b"\r\nconnection: close\r\n\r\n" + body)
        await writer.drain()
        writer.close()

    async def run(self) -> None:
        web = await asyncio.start_server(self._web, "127.0.0.1", self.web_port) if self.web_port else None
        await self.central.start()
        self.producer = AIOKafkaProducer(bootstrap_servers=self.kafka, acks="all")
        consumer = AIOKafkaConsumer(energy.DISPATCH.name, bootstrap_servers=self.kafka,
                                    group_id="citymatch-charger-gateway", enable_auto_commit=False,
                                    auto_offset_reset="earliest")
        await self.producer.start()
        await consumer.start()
        self.broker_ok = self.started = True
        log.info("charger gateway: OCPP on %s, Kafka %s", self.central.url, self.kafka)
        try:
            await asyncio.gather(self._publish_loop(), self._consume_loop(consumer), self._probe_loop())
        finally:
            self.started = False
            await consumer.stop()
            await self.producer.stop()
            await self.central.stop()
            if web is not None:
                web.close()
