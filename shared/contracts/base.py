"""The shapes every contract is made of: payloads, the envelope around them, and typed topics.

A :class:`Payload` is one business fact (closed schema, frozen). An :class:`Envelope` is what travels: event
id, type, schema version, time, producer and key around one payload, as JSON. A :class:`Topic` names a Kafka
topic, what its key is, and exactly which payload types it carries, so a producer cannot put a receipt on the
order topic and a consumer knows what it must handle.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any, ClassVar, Generic, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from shared.units import SLOT_MINUTES

DAY_MS = 24 * 3600 * 1000

Kwh = Annotated[Decimal, Field(gt=0, max_digits=12, decimal_places=3, description="energy in kWh (Wh resolution)")]
YenPerKwh = Annotated[Decimal, Field(ge=0, le=1000, max_digits=10, decimal_places=2, description="price in yen/kWh")]


def utcnow() -> datetime:
    """Now, aware and in UTC (contracts never carry naive times)."""
    return datetime.now(UTC)


def check_slot(value: datetime) -> datetime:
    """A slot is an aware moment on a slot boundary; it is normalised to UTC."""
    if value.tzinfo is None:
        raise ValueError("slot must carry a time zone, e.g. 2026-11-27T09:00:00+09:00")
    value = value.astimezone(UTC)
    if value.minute % SLOT_MINUTES or value.second or value.microsecond:
        raise ValueError("slot must start on a 30-minute boundary (hh:00 or hh:30)")
    return value


Slot = Annotated[datetime, AfterValidator(check_slot)]


class Payload(BaseModel):
    """Base of every business payload; subclasses set ``event_type`` and ``schema_version``.

    ``schema_version`` is the one version of the payload this code reads and writes; a message that says
    another version does not decode (it goes to the dead-letter topic), so a change of meaning is never
    read under the old one.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")
    event_type: ClassVar[str]
    schema_version: ClassVar[int] = 1

    def key(self) -> str:
        """The partitioning key on the payload's topic."""
        raise NotImplementedError


P = TypeVar("P", bound=Payload)


@dataclass(frozen=True)
class Topic(Generic[P]):
    """A topic of the catalogue: its name, what its key is, the payload types it carries, its policy."""

    name: str
    key: str
    payloads: tuple[type[P], ...]
    partitions: int = 1
    retention_ms: int | None = 7 * DAY_MS
    compacted: bool = False

    @property
    def dlq(self) -> str:
        """Where messages of this topic that cannot be processed go, with the reason in headers."""
        return f"{self.name}.dlq"

    def carries(self, payload_type: type[Payload]) -> bool:
        return payload_type in self.payloads

    def __str__(self) -> str:
        return self.name


AnyTopic = Topic[Any]  # a topic whatever it carries (catalogues, tables, codec arguments)


class Envelope(BaseModel):
    """What travels on a topic: metadata plus one payload."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    event_id: str
    event_type: str
    schema_version: int
    occurred_at: datetime
    producer: str
    key: str
    payload: dict[str, Any]

    @classmethod
    def wrap(cls, payload: Payload, producer: str, *, event_id: str | None = None,
             occurred_at: datetime | None = None) -> Envelope:
        return cls(
            event_id=event_id or str(uuid.uuid4()),
            event_type=payload.event_type,
            schema_version=payload.schema_version,
            occurred_at=occurred_at or utcnow(),
            producer=producer,
            key=payload.key(),
            payload=payload.model_dump(mode="json"),
        )

    def body(self) -> Payload:
        """The typed payload; raises pydantic's ValidationError if it does not fit its schema."""
        from shared.contracts.catalogue import payload_class

        return payload_class(self.event_type).model_validate(self.payload)
