"""Bytes <-> envelopes: the one place where wire-format problems become :class:`EventDecodeError`.

Decoding a message read from a topic checks, in order: it is a JSON envelope; its event type is one the topic
carries; its schema version is the one this code reads; its payload fits the schema; and its key is the key
the payload says (and the Kafka record's key, when given). Each failure names what is wrong, and that reason
is what the dead-letter topic records.
"""

from __future__ import annotations

import json

from pydantic import ValidationError

from shared.contracts.base import AnyTopic, Envelope, Payload
from shared.contracts.catalogue import PAYLOAD_TYPES, payload_class
from shared.errors import EventDecodeError


def encode(envelope: Envelope) -> bytes:
    return envelope.model_dump_json().encode()


def _describe(exc: ValidationError, prefix: str) -> str:
    parts = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err["loc"]) or "(root)"
        parts.append(f"{prefix}{where}: {err['msg']}")
    return "; ".join(parts)


def _payload_type(envelope: Envelope, topic: AnyTopic | None) -> type[Payload]:
    if topic is None:
        try:
            return payload_class(envelope.event_type)
        except KeyError as exc:
            raise EventDecodeError(str(exc.args[0])) from None
    for cls in topic.payloads:
        if cls.event_type == envelope.event_type:
            return cls
    carried = ", ".join(cls.event_type for cls in topic.payloads)
    what = "unknown event type" if envelope.event_type not in PAYLOAD_TYPES else "event type"
    raise EventDecodeError(f"{what} {envelope.event_type!r} is not carried by {topic.name} (it carries: {carried})")


def decode(raw: bytes | str | None, topic: AnyTopic | None = None,
           record_key: bytes | str | None = None) -> tuple[Envelope, Payload]:
    """Parse and validate one message read from ``topic`` (any catalogued type when ``topic`` is None)."""
    if raw is None:
        raise EventDecodeError("empty message (no value)")
    try:
        doc = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise EventDecodeError(f"not JSON: {exc}") from None
    if not isinstance(doc, dict):
        raise EventDecodeError(f"envelope must be a JSON object, got {type(doc).__name__}")
    try:
        envelope = Envelope.model_validate(doc)
    except ValidationError as exc:
        raise EventDecodeError(f"bad envelope: {_describe(exc, '')}") from None
    cls = _payload_type(envelope, topic)
    if envelope.schema_version != cls.schema_version:
        raise EventDecodeError(f"{envelope.event_type} schema_version {envelope.schema_version} is not supported "
                               f"(this code reads version {cls.schema_version})")
    try:
        payload = cls.model_validate(envelope.payload)
    except ValidationError as exc:
        raise EventDecodeError(f"bad {envelope.event_type} payload: {_describe(exc, 'payload.')}") from None
    if envelope.key != payload.key():
        raise EventDecodeError(f"envelope key {envelope.key!r} is not the payload's key {payload.key()!r}")
    if record_key is not None:
        got = record_key.decode(errors="replace") if isinstance(record_key, bytes) else record_key
        if got != envelope.key:
            raise EventDecodeError(f"record key {got!r} is not the envelope's key {envelope.key!r}")
    return envelope, payload
