"""The charger gateway's Kafka side over a fake consumer and producer: a dispatch record that does not decode
is dead-lettered (original bytes, reason headers, counted) before its offset is committed; a good one for
another device is committed without a dead letter."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from services.charging.adapters.charger_gateway import ChargerGateway
from services.charging.domain.profiles import limit_w
from shared.contracts import energy
from shared.contracts.base import Envelope
from shared.contracts.codec import encode
from shared.contracts.energy import DispatchSetpoint


@dataclass
class Record:
    value: bytes
    key: bytes | None
    partition: int = 0
    offset: int = 0


@dataclass
class FakeConsumer:
    records: list[Record]
    log: list[tuple] = field(default_factory=list)

    def __aiter__(self):
        return self._iterate()

    async def _iterate(self):
        for record in self.records:
            self.log.append(("read", record.offset))
            yield record

    async def commit(self) -> None:
        self.log.append(("commit",))


@dataclass
class FakeProducer:
    log: list[tuple]
    sent: list[tuple[str, bytes, bytes | None, list[tuple[str, bytes]]]] = field(default_factory=list)

    async def send_and_wait(self, topic, value, key=None, headers=None):
        self.sent.append((topic, value, key, list(headers or [])))
        self.log.append(("sent", topic))


def _run(records: list[Record]) -> tuple[ChargerGateway, FakeConsumer, FakeProducer]:
    gateway = ChargerGateway("unused:9092", {"office-park/cp-01"})
    consumer = FakeConsumer(records)
    producer = FakeProducer(consumer.log)
    gateway.producer = producer  # type: ignore[assignment]
    asyncio.run(gateway._consume_loop(consumer))  # type: ignore[arg-type]
    return gateway, consumer, producer


def _dead_lettered(gateway: ChargerGateway) -> float:
    return gateway.metrics.dead_lettered.labels("charger-gateway", energy.DISPATCH.name)._value.get()


def test_an_undecodable_dispatch_record_is_dead_lettered_with_its_reason_before_the_commit():
    bad = Record(b"{not json", b"office-park/cp-01", partition=2, offset=41)
    gateway, consumer, producer = _run([bad])
    assert len(producer.sent) == 1
    topic, value, key, headers = producer.sent[0]
    assert (topic, value, key) == ("energy.dispatch.dlq", bad.value, bad.key)
    named = dict(headers)
    assert named["x-dlq-reason"].decode().startswith("undecodable message on energy.dispatch")
    assert named["x-dlq-error-type"] == b"decode"
    assert (named["x-dlq-source-topic"], named["x-dlq-source-partition"], named["x-dlq-source-offset"]) == (
        b"energy.dispatch", b"2", b"41")
    assert named["x-dlq-service"] == b"charger-gateway"
    assert consumer.log == [("read", 41), ("sent", "energy.dispatch.dlq"), ("commit",)]
    assert _dead_lettered(gateway) == 1
    assert b'citymatch_dead_lettered_total{service="charger-gateway",topic="energy.dispatch"} 1.0' in (
        gateway.metrics.render())


def test_a_wrong_key_is_dead_lettered_and_a_set_point_for_another_device_is_only_committed():
    slot = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) + timedelta(hours=2)
    other = DispatchSetpoint(device="home-battery-1", participant="home-1", slot=slot, kwh=Decimal("1.5"))
    raw = encode(Envelope.wrap(other, "market"))
    gateway, consumer, producer = _run([Record(raw, b"home-battery-1", offset=1),
                                        Record(raw, b"someone-else", offset=2)])
    assert [topic for topic, *_ in producer.sent] == ["energy.dispatch.dlq"]
    assert dict(producer.sent[0][3])["x-dlq-source-offset"] == b"2"
    assert consumer.log == [("read", 1), ("commit",), ("read", 2), ("sent", "energy.dispatch.dlq"), ("commit",)]
    assert _dead_lettered(gateway) == 1


def test_a_discharge_set_point_is_sent_as_no_charging_and_acknowledged_as_zero():
    """OCPP 1.6J has no discharge: the charger is told 0 W and the acknowledgement says 0 kWh was applied,
    never the -2 kWh that was asked for (metering and billing follow what the charger really does)."""
    gateway = ChargerGateway("unused:9092", {"office-park/cp-01"})
    sent: list[dict] = []

    class Central:
        async def send_profile(self, charger_id: str, connector_id: int, profile: dict) -> str:
            sent.append(profile)
            return "Accepted"

    gateway.central = Central()  # type: ignore[assignment]
    slot = (datetime.now(UTC) + timedelta(hours=2)).replace(minute=0, second=0, microsecond=0)
    status = asyncio.run(gateway.apply(DispatchSetpoint(device="office-park/cp-01", participant="ev-1", slot=slot,
                                                        kwh=Decimal("-2.000"))))
    assert status == "Accepted"
    assert limit_w(sent[0]) == 0
    ack = gateway.outbox.get_nowait()
    assert ack.payload.kwh_applied == 0
