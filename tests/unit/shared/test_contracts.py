"""The contract package: round trips, field rules, and what decoding checks (topic, type, version, key)."""

import subprocess
import sys
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from shared.bus.dispatch import handler_failed
from shared.bus.inprocess import InProcessBus
from shared.contracts import energy
from shared.contracts.base import Envelope
from shared.contracts.catalogue import CATALOGUE, DOMAINS, PAYLOAD_TYPES, all_topic_names
from shared.contracts.codec import decode, encode
from shared.contracts.energy import EnergyOrderPlaced, TradeMatched
from shared.contracts.ledger import CertificateRetirementRequested
from shared.errors import EventDecodeError
from shared.metrics import ServiceMetrics
from shared.runtime import Outgoing, Service, ignore
from shared.units import slot_start


def order(**kw):
    base = dict(order_id="o1", participant="home-1", side="sell", slot="2026-11-28T13:00:00+09:00",
                kwh="1.2", limit_price="12.5")
    return EnergyOrderPlaced(**{**base, **kw})


def test_round_trip_keeps_every_field():
    """An envelope encoded to bytes decodes to an equal envelope and payload."""
    env = Envelope.wrap(order(renewable=True), "test")
    env2, payload = decode(encode(env))
    assert env2 == env
    assert payload == order(renewable=True, placed_at=payload.placed_at)
    assert payload.kwh == Decimal("1.2")


def test_slot_is_normalised_to_utc_and_keys_the_order():
    """Slots are stored in UTC and the slot is the partition key, so one slot's book sits on one partition."""
    o = order()
    assert o.slot == datetime(2026, 11, 28, 4, 0, tzinfo=UTC)
    assert o.key() == o.slot.isoformat()


@pytest.mark.parametrize("field,value,expect", [
    ("slot", "2026-11-28T13:10:00+09:00", "30-minute boundary"),
    ("slot", "2026-11-28T13:00:00", "time zone"),
    ("kwh", "0", "greater than 0"),
    ("limit_price", "-1", "greater than or equal to 0"),
    ("side", "hold", "'buy' or 'sell'"),
])
def test_invalid_payload_is_named(field, value, expect):
    """A bad field makes decode fail with a reason that names the field."""
    env = Envelope.wrap(order(), "test")
    doc = env.model_dump(mode="json")
    doc["payload"][field] = value
    with pytest.raises(EventDecodeError) as err:
        decode(Envelope.model_validate(doc).model_dump_json().encode())
    assert f"payload.{field}" in str(err.value)
    assert expect in str(err.value)


@pytest.mark.parametrize("raw,expect", [
    (b"{not json", "not JSON"),
    (b"[1, 2]", "JSON object"),
    (b'{"event_id": "x"}', "bad envelope"),
    (None, "empty message"),
])
def test_garbage_is_rejected_with_reason(raw, expect):
    """Bytes that are not an envelope raise EventDecodeError with a readable reason."""
    with pytest.raises(EventDecodeError, match=expect):
        decode(raw)


def test_unknown_event_type_is_rejected():
    """An envelope of an unregistered type cannot be decoded, and the error lists the known ones."""
    env = Envelope.wrap(order(), "test").model_copy(update={"event_type": "nope"})
    with pytest.raises(EventDecodeError, match="unknown event type 'nope'"):
        decode(encode(env))


def test_catalogue_has_a_dlq_for_every_topic():
    """Every catalogued topic has a dead-letter topic named <topic>.dlq."""
    names = all_topic_names()
    for name in CATALOGUE:
        assert f"{name}.dlq" in names


def test_slot_start_rounds_down():
    """slot_start maps any moment to the start of its 30-minute slot."""
    assert slot_start(datetime(2026, 1, 1, 10, 47, 12, tzinfo=UTC)) == datetime(2026, 1, 1, 10, 30, tzinfo=UTC)


def test_trade_payload_rejects_extra_fields():
    """Contracts are closed: an unknown field is an error, not silently dropped."""
    with pytest.raises(ValueError, match="extra"):
        TradeMatched(trade_id="t", slot="2026-11-28T13:00:00+09:00", seller="a", buyer="b", kwh="1", price="10",
                     colour="green")


# ---------------------------------------------------------------- decoding against a topic


def _raw(payload, **envelope_changes) -> bytes:
    env = Envelope.wrap(payload, "test").model_copy(update=envelope_changes)
    return encode(env)


def test_unknown_schema_version_is_a_decode_error_naming_the_version():
    """A message that says schema_version 99 is not read as version 1: decoding refuses it and says why."""
    with pytest.raises(EventDecodeError, match=r"schema_version 99 is not supported.*reads version 1"):
        decode(_raw(order(), schema_version=99), energy.ORDERS)


def test_a_type_the_topic_does_not_carry_is_a_decode_error():
    """A valid trade put on the order topic does not decode there; the reason lists what the topic carries."""
    trade = TradeMatched(trade_id="t", slot="2026-11-28T13:00:00+09:00", seller="a", buyer="b", kwh="1", price="10")
    with pytest.raises(EventDecodeError, match=r"'energy\.trade\.matched' is not carried by energy\.orders"):
        decode(_raw(trade), energy.ORDERS)
    assert decode(_raw(trade), energy.TRADES)[1] == trade


def test_envelope_key_must_be_the_payloads_key():
    """An envelope whose key is not the payload's partition key would land the slot's book on two partitions."""
    with pytest.raises(EventDecodeError, match="envelope key 'elsewhere' is not the payload's key"):
        decode(_raw(order(), key="elsewhere"), energy.ORDERS)


def test_record_key_must_be_the_envelopes_key():
    """The Kafka record's key, when the transport passes it, must be the envelope's key too."""
    raw = _raw(order())
    key = order().key()
    assert decode(raw, energy.ORDERS, record_key=key.encode())[1].order_id == "o1"
    with pytest.raises(EventDecodeError, match="record key 'x' is not the envelope's key"):
        decode(raw, energy.ORDERS, record_key=b"x")


def test_every_topic_names_its_key_and_payloads_and_every_payload_one_event_type():
    """The catalogue is built from the domain modules; each event type maps to exactly one payload class."""
    assert set(CATALOGUE) == {t.name for domain in DOMAINS for t in domain.TOPICS}
    for t in CATALOGUE.values():
        assert t.key and t.payloads, t.name
        for cls in t.payloads:
            assert PAYLOAD_TYPES[cls.event_type] is cls


def test_decoding_does_not_depend_on_what_was_imported():
    """A fresh interpreter that imports only the codec decodes every domain's payloads (no import-order registry)."""
    code = ("from shared.contracts.codec import decode; import sys; "
            "print(decode(sys.stdin.buffer.read())[1].__class__.__name__, "
            "any(m.startswith('services') or m.startswith('simulator') for m in sys.modules))")
    receipt = CertificateRetirementRequested(cert_id="REC-1", participant="p", target="FY2026")
    out = subprocess.run([sys.executable, "-c", code], input=_raw(receipt), capture_output=True, check=True)
    assert out.stdout.split() == [b"CertificateRetirementRequested", b"False"]


def test_unknown_version_goes_to_the_dead_letter_topic_with_the_reason_and_is_counted():
    """On the bus, a version-99 order is dead-lettered with the reason; the dead-letter metric counts it."""
    seen: list[str] = []

    def on_place(envelope, payload):
        seen.append(payload.order_id)
        return []

    service = Service("toy", {energy.ORDERS: {energy.EnergyOrderPlaced: on_place,
                                             energy.EnergyOrderCancelled: ignore, energy.GateClosed: ignore}})
    bus = InProcessBus([service])
    bus.publish_raw(energy.ORDERS.name, _raw(order(order_id="v99"), schema_version=99))
    bus.publish(energy.ORDERS, order(order_id="v1"))
    bus.run_until_idle()
    [dead] = bus.dead_letters[energy.ORDERS.name]
    assert "schema_version 99" in dead.reason and seen == ["v1"]
    assert bus.log[energy.ORDERS.dlq] == [dead.raw]
    assert bus.metrics["toy"].dead_lettered.labels("toy", energy.ORDERS.name)._value.get() == 1


def test_a_handler_that_keeps_failing_is_a_counted_dead_letter():
    """When the transport gives up retrying a handler, each message becomes a dead letter that the metric counts."""
    service = Service("toy", {energy.ORDERS: {energy.EnergyOrderPlaced: ignore, energy.EnergyOrderCancelled: ignore,
                                             energy.GateClosed: ignore}})
    metrics = ServiceMetrics("toy")
    dead = handler_failed(service, energy.ORDERS.name, 3, RuntimeError("db down"), 3, metrics)
    assert [d.error_type for d in dead] == ["handler"] * 3
    assert all("handler failed 3 times" in (d.dead_letter_reason or "") for d in dead)
    assert metrics.dead_lettered.labels("toy", energy.ORDERS.name)._value.get() == 3


def test_a_producer_cannot_put_a_payload_on_a_topic_that_does_not_carry_it():
    """Outgoing checks the topic carries the payload's type, so the mistake shows where it is made."""
    with pytest.raises(TypeError, match=r"energy\.trades does not carry EnergyOrderPlaced"):
        Outgoing(energy.TRADES, order())
    with pytest.raises(TypeError, match="catalogue Topic"):
        Outgoing("energy.orders", order())  # type: ignore[arg-type]
