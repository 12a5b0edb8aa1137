"""The in-process bus: delivery, dead letters, stable output ids, timers and batches."""

from decimal import Decimal

from shared.bus.inprocess import InProcessBus
from shared.contracts.energy import CLEARINGS, ORDERS, EnergyOrderCancelled, EnergyOrderPlaced, GateClosed, SlotCleared
from shared.errors import DomainError
from shared.runtime import Outgoing, Service, Timer, ignore


def gates_only(on_gate) -> dict:
    """A dispatch table for energy.orders that handles gate closures and reads past orders."""
    return {ORDERS: {GateClosed: on_gate, EnergyOrderPlaced: ignore, EnergyOrderCancelled: ignore}}


def clearing_service(seen: list) -> Service:
    def on_gate(envelope, payload):
        if payload.slot.hour == 23:
            raise DomainError("no clearing at 23:00 in this test")
        seen.append(envelope.event_id)
        yield Outgoing(CLEARINGS, SlotCleared(slot=payload.slot, orders=0, trades=0, kwh=Decimal(0),
                                                       surplus_yen=Decimal(0), pricing="test"))
    return Service("toy", gates_only(on_gate))


def test_outputs_are_delivered_and_logged():
    """A handler's outputs are published on their topics and readable by later consumers."""
    seen: list = []
    bus = InProcessBus([clearing_service(seen)])
    bus.publish(ORDERS, GateClosed(slot="2026-11-28T10:00:00+09:00"))
    assert bus.run_until_idle() == 2
    assert [e.orders for e in bus.events(CLEARINGS)] == [0]


def test_bad_message_goes_to_dlq_and_next_is_processed():
    """Garbage and rule-breaking messages are dead-lettered with a reason; the next good message still flows."""
    seen: list = []
    bus = InProcessBus([clearing_service(seen)])
    bus.publish_raw(ORDERS.name, b"\xff\xfe")
    bus.publish(ORDERS, GateClosed(slot="2026-11-28T23:00:00+00:00"))
    bus.publish(ORDERS, GateClosed(slot="2026-11-28T10:00:00+09:00"))
    bus.run_until_idle()
    reasons = [d.reason for d in bus.dead_letters[ORDERS.name]]
    assert len(reasons) == 2
    assert "undecodable" in reasons[0]
    assert "no clearing at 23:00" in reasons[1]
    assert bus.dead_letters[ORDERS.name][0].raw == b"\xff\xfe"
    assert len(bus.events(CLEARINGS)) == 1
    assert bus.metrics["toy"].dead_lettered.labels("toy", ORDERS.name)._value.get() == 2


def test_output_event_ids_are_stable_under_redelivery():
    """Redelivering the same input yields outputs with the same event ids, so consumers can deduplicate."""
    seen: list = []
    bus = InProcessBus([clearing_service(seen)])
    env = bus.publish(ORDERS, GateClosed(slot="2026-11-28T10:00:00+09:00"))
    bus.publish_raw(ORDERS.name, env.model_dump_json().encode())
    bus.run_until_idle()
    from shared.contracts.codec import decode
    ids = [decode(raw)[0].event_id for raw in bus.log[CLEARINGS.name]]
    assert len(ids) == 2 and ids[0] == ids[1]


def test_timers_publish_through_the_bus():
    """A service timer's outputs are published like handler outputs."""
    svc = Service("clock", {}, timers=[Timer(1.0, lambda: [Outgoing(ORDERS,
                                                                   GateClosed(slot="2026-11-28T10:00:00Z"))])])
    bus = InProcessBus([svc])
    bus.tick()
    bus.run_until_idle()
    assert len(bus.events(ORDERS)) == 1


def test_batch_handler_gets_good_messages_together_and_bad_ones_are_dead_lettered():
    """A batch handler sees the decodable messages in one call; garbage is dead-lettered one by one."""
    from shared.bus.dispatch import deliver_batch
    from shared.contracts.base import Envelope
    from shared.contracts.codec import encode

    calls = []

    def batch(items):
        calls.append(len(items))
        return [[Outgoing(CLEARINGS, SlotCleared(slot=p.slot, orders=0, trades=0, kwh=Decimal(0),
                                                          surplus_yen=Decimal(0), pricing="b"))] for _, p in items]

    svc = Service("batcher", gates_only(ignore), batch_handlers={ORDERS: batch})
    good = [encode(Envelope.wrap(GateClosed(slot=f"2026-11-28T{h:02d}:00:00Z"), "t")) for h in (1, 2)]
    results = deliver_batch(svc, ORDERS.name, [good[0], b"junk", good[1]])
    assert calls == [2]
    assert [len(r.outputs) for r in results] == [1, 0, 1]
    assert results[1].dead_letter_reason and "undecodable" in results[1].dead_letter_reason


def test_batch_rejected_on_a_rule_is_retried_singly():
    """If a batch breaks a business rule, only the offending message is dead-lettered."""
    from shared.bus.dispatch import deliver_batch
    from shared.contracts.base import Envelope
    from shared.contracts.codec import encode

    def batch(items):
        if any(p.slot.hour == 23 for _, p in items):
            raise DomainError("23:00 is not allowed")
        return [[] for _ in items]

    svc = Service("batcher", gates_only(ignore), batch_handlers={ORDERS: batch})
    raws = [encode(Envelope.wrap(GateClosed(slot=f"2026-11-28T{h:02d}:00:00Z"), "t")) for h in (22, 23, 21)]
    results = deliver_batch(svc, ORDERS.name, raws)
    assert [r.dead_letter_reason is not None for r in results] == [False, True, False]
