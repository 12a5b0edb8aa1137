"""EV charging end to end: plans and PV forecasts over real Kafka -> the charging service (Faust) -> bookings,
market orders and set-points -> the charger gateway -> simulated OCPP 1.6J charge points on 127.0.0.1 (one
refuses profiles, the others are missing) -> acknowledgements and metered sessions back -> the market clears
the car's order and the ledger on real PostgreSQL settles it."""

from __future__ import annotations

import asyncio
import contextlib
import threading
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import httpx
import pytest
from kafka import KafkaConsumer, KafkaProducer

from services.charging.adapters.ocpp_charger_sim import SimulatedChargePoint
from services.localstack import LocalStack, free_port
from services.settlement.read_model import open_read_model
from services.settlement.store import open_ledger
from shared.contracts import charging as ev
from shared.contracts import energy
from shared.contracts.base import Envelope, Topic
from shared.contracts.charging import (
    ChargerAvailability,
    ChargingBilled,
    ChargingSessionMetered,
    EvBooked,
    EvPlanSubmitted,
    PlannedStay,
)
from shared.contracts.codec import decode, encode
from shared.contracts.energy import (
    DispatchAcknowledged,
    DispatchSetpoint,
    EnergyOrderCancelled,
    EnergyOrderPlaced,
    OrderRejected,
    SiteForecast,
)
from shared.units import SLOT, slot_start

from .conftest import wait_until

pytestmark = pytest.mark.integration
SITE = "office-park"


class Loop:
    """An asyncio loop in a thread, for the simulated charge points while the test waits on Kafka."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def run(self, coro, timeout: float = 30):
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)


class Topics:
    """Everything on a few topics since the test began, decoded."""

    def __init__(self, kafka: str, topics: list[str]):
        self.consumer = KafkaConsumer(*topics, bootstrap_servers=kafka, auto_offset_reset="latest",
                                      group_id=None, consumer_timeout_ms=200)
        self.consumer.poll(timeout_ms=1000)  # join the partitions before anything is published
        self.seen: list[tuple[str, Envelope, object]] = []

    def poll(self) -> list[tuple[str, Envelope, object]]:
        for batch in self.consumer.poll(timeout_ms=300).values():
            for record in batch:
                envelope, payload = decode(record.value)
                self.seen.append((record.topic, envelope, payload))
        return self.seen

    def of(self, cls, where=lambda p: True):
        return [p for _, _, p in self.poll() if isinstance(p, cls) and where(p)]


@pytest.fixture(scope="module")
def charging(stack, tmp_path_factory):
    ocpp_port = free_port()
    local = LocalStack(stack.kafka, stack.database_url, tmp_path_factory.mktemp("charging"),
                       services=("charging", "charger-gateway"),
                       env={"CITYMATCH_ENVIRONMENT": "test", "CITYMATCH_CHARGING_OCPP_PORT": str(ocpp_port),
                            "CITYMATCH_TOKEN_SECRET": f"test-{uuid.uuid4().hex}"})
    local.start()
    try:
        yield local, f"ws://127.0.0.1:{ocpp_port}"
    finally:
        local.stop()


def test_plans_to_chargers_to_settled_energy(stack, charging):
    """Two cars at the office park; cp-01 accepts profiles, cp-02 refuses them and the other six chargers
    are not connected: the planner ends with both cars on cp-01 only, each departure met; cp-01 confirms
    its set-points; its meter readings come back as sessions; the car's market order clears against a PV
    seller and the trade is on the ledger; the metered energy is billed on the ledger."""
    _, ocpp_url = charging
    tag = uuid.uuid4().hex[:6]
    cars = [f"ev-{tag}-a", f"ev-{tag}-b"]
    owners = {car: f"owner-{car}" for car in cars}
    topics = Topics(stack.kafka, [t.name for t in (ev.BOOKINGS, energy.ORDERS, energy.DISPATCH, energy.DISPATCH_ACKS,
                                                   ev.SESSIONS, ev.CHARGERS, energy.REJECTIONS, ev.BILLS)])
    loop = Loop()
    good = SimulatedChargePoint(f"{SITE}/cp-01", ocpp_url, time_scale=3600)
    stubborn = SimulatedChargePoint(f"{SITE}/cp-02", ocpp_url, refuse_profiles=True)
    producer = KafkaProducer(bootstrap_servers=stack.kafka, acks="all")

    def publish(topic: Topic, payload) -> None:
        producer.send(topic.name, key=payload.key().encode(), value=encode(Envelope.wrap(payload, "test"))).get(10)

    try:
        loop.run(good.connect())
        loop.run(stubborn.connect())
        now = datetime.now(UTC)
        first = slot_start(now + timedelta(minutes=5)) + SLOT
        publish(energy.FORECASTS, SiteForecast(site=SITE, start=first, pv_kwh=tuple(Decimal("4") for _ in range(8))))
        for k, car in enumerate(cars):
            publish(ev.PLANS, EvPlanSubmitted(
                vehicle=car, participant=owners[car], battery_kwh=Decimal("40"), soc_kwh=Decimal("10"),
                max_charge_kw=Decimal("6"), stays=(PlannedStay(site=SITE, arrive=now - timedelta(minutes=10),
                                                               depart=first + timedelta(hours=4 + k),
                                                               need_kwh=Decimal("16"), trip_kwh=Decimal("4")),)))

        def settled_on_one_charger():
            latest = {}
            for b in topics.of(EvBooked, lambda b: b.vehicle in cars):
                latest[b.vehicle] = b
            if len(latest) < 2 or any(not b.bookings for b in latest.values()):
                return None
            chargers = {x.charger for b in latest.values() for x in b.bookings}
            return latest if chargers == {f"{SITE}/cp-01"} else None

        latest = wait_until(settled_on_one_charger, 120, "both cars planned on the one working charger")
        assert all(b.status == "planned" for b in latest.values())
        slots = [x.slot for b in latest.values() for x in b.bookings]
        assert len(slots) == len(set(slots))                    # one car per charger at a time
        for car in cars:                                         # driver first: each departure gets its 6 kWh
            assert sum(x.kwh for x in latest[car].bookings) >= Decimal("6")
        outs = topics.of(ChargerAvailability, lambda a: not a.available)
        assert f"{SITE}/cp-02" in {a.charger for a in outs}     # refused its profile
        assert f"{SITE}/cp-03" in {a.charger for a in outs}     # never connected
        orders = topics.of(EnergyOrderPlaced, lambda o: o.participant in owners.values())
        assert orders and all(o.side == "buy" and o.site == SITE for o in orders)
        assert topics.of(DispatchSetpoint, lambda d: d.device == f"{SITE}/cp-01" and d.kwh > 0)
        wait_until(lambda: topics.of(DispatchAcknowledged, lambda a: a.device == f"{SITE}/cp-01"), 60,
                   "cp-01 to confirm its set-points")
        assert good.limit_w > 0 and stubborn.limit_w == 0

        # the car charges: what the meter says comes back as a session
        loop.run(good.plug_in(cars[0]))
        loop.run(good.run_for(1.0, readings=4))
        loop.run(good.unplug())
        final = wait_until(lambda: topics.of(ChargingSessionMetered, lambda s: s.vehicle == cars[0] and s.final),
                           60, "the final metered session")[-1]
        assert final.kwh == Decimal(round(good.register_wh)) / 1000 and final.kwh > 0

        # the car's first live order (placed and not cancelled by a later re-plan) clears against a PV seller
        # on the same site and is settled
        cancelled = {c.order_id for c in topics.of(EnergyOrderCancelled)}
        rejected = {r.order_id for r in topics.of(OrderRejected)}
        live = [o for o in topics.of(EnergyOrderPlaced, lambda o: o.participant == owners[cars[0]])
                if o.order_id not in cancelled]
        assert live and not rejected & {o.order_id for o in live}
        order = min(live, key=lambda o: o.slot)
        seller = f"pv-{tag}"
        publish(energy.ORDERS, EnergyOrderPlaced(order_id=f"sell-{tag}", participant=seller, side="sell",
                                                   slot=order.slot, kwh=order.kwh, limit_price=Decimal("5.00"),
                                                   site=SITE, renewable=True))
        r = httpx.post(f"{stack.gateway}/v1/operator/slots/{order.slot.isoformat()}/close",
                       headers={"Authorization": f"Bearer {stack.operator_token}"}, timeout=10)
        assert r.status_code == 200, r.text

        def settled():
            ledger = open_ledger(stack.database_url)
            try:
                return [t for t in ledger.trades_for(owners[cars[0]]) if t.buyer == owners[cars[0]]]
            finally:
                ledger.close()

        trades = wait_until(settled, 90, "the car's energy on the ledger")
        assert sum(Decimal(str(t.kwh)) for t in trades) == order.kwh

        # what the meter delivered is billed once, to the car's owner, at the site
        def billed():
            ledger = open_read_model(stack.database_url)
            try:
                return ledger.entry("charging_bill", f"{final.charger}:{final.transaction_id}")
            finally:
                ledger.close()

        bill = wait_until(billed, 60, "the charging bill on the ledger").body["fact"]
        assert (bill["owner"], bill["site"], bill["wh"]) == (owners[cars[0]], SITE, int(final.kwh * 1000))
        # the car charged now, before the first slot its plan booked: nothing of it was booked PV
        [sent] = topics.of(ChargingBilled, lambda b: b.transaction_id == final.transaction_id)
        assert (sent.kwh, sent.renewable_kwh) == (final.kwh, 0)
    finally:
        for cp in (good, stubborn):
            with contextlib.suppress(Exception):  # already gone
                loop.run(cp.disconnect(), timeout=10)
        loop.close()
        producer.close()


def test_an_undecodable_dispatch_record_is_dead_lettered_by_the_charger_gateway(stack, charging):
    """Garbage on energy.dispatch reaches energy.dispatch.dlq from the charger gateway, as it was sent, with the
    reason in its headers, and is counted on the gateway's /metrics."""
    local, _ = charging
    dlq = KafkaConsumer(energy.DISPATCH.dlq, bootstrap_servers=stack.kafka, auto_offset_reset="latest",
                        group_id=None, consumer_timeout_ms=200)
    dlq.poll(timeout_ms=1000)  # join the partitions before anything is published
    producer = KafkaProducer(bootstrap_servers=stack.kafka, acks="all")
    garbage = f"not an envelope {uuid.uuid4().hex}".encode()
    try:
        producer.send(energy.DISPATCH.name, key=f"{SITE}/cp-01".encode(), value=garbage).get(10)
        seen = []

        def dead_lettered():
            for batch in dlq.poll(timeout_ms=300).values():
                seen.extend(r for r in batch if r.value == garbage)
            return [r for r in seen if dict(r.headers).get("x-dlq-service") == b"charger-gateway"]

        record = wait_until(dead_lettered, 60, "the charger gateway's dead letter")[0]
        headers = dict(record.headers)
        assert headers["x-dlq-reason"].decode().startswith("undecodable message on energy.dispatch")
        assert headers["x-dlq-source-topic"] == b"energy.dispatch" and record.key == f"{SITE}/cp-01".encode()
        metrics = httpx.get(f"http://127.0.0.1:{local.ports['charger-gateway']}/metrics", timeout=5).text
        assert 'citymatch_dead_lettered_total{service="charger-gateway",topic="energy.dispatch"} 1.0' in metrics
    finally:
        producer.close()
        dlq.close()
