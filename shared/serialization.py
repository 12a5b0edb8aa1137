"""Bytes <-> envelopes. The one place where wire format errors become :class:`EventDecodeError`."""

from __future__ import annotations

import json

from pydantic import ValidationError

from shared.errors import EventDecodeError
from shared.events import Envelope, Payload


def encode(envelope: Envelope) -> bytes:
    return envelope.model_dump_json().encode()


def _describe(exc: ValidationError, prefix: str) -> str:
    parts = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err["loc"]) or "(root)"
        parts.append(f"{prefix}{where}: {err['msg']}")
    return "; ".join(parts)


def decode(raw: bytes | str | None) -> tuple[Envelope, Payload]:
    """Parse and validate one message; the error message names the bad field."""
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
    try:
        payload = envelope.body()
    except KeyError as exc:
        raise EventDecodeError(str(exc.args[0])) from None
    except ValidationError as exc:
        raise EventDecodeError(f"bad {envelope.event_type} payload: {_describe(exc, 'payload.')}") from None
    return envelope, payload
