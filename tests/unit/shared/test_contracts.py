from datetime import UTC, datetime
from decimal import Decimal

import pytest

from shared.errors import EventDecodeError
from shared.events import EnergyOrderPlaced, Envelope, TradeMatched, slot_start
from shared.serialization import decode, encode
from shared.topics import CATALOGUE, all_topic_names


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
