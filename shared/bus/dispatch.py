"""The transport-independent step: raw bytes in, events to publish or a dead-letter reason out.

Both transports call :func:`deliver`, so decoding, validation, dead-lettering and output event ids behave
the same on Kafka and on the in-process bus.
"""

from __future__ import annotations

import logging
import time
import uuid
from dataclasses import dataclass, field

from pydantic import ValidationError

from shared.contracts.base import AnyTopic, Envelope
from shared.contracts.codec import decode
from shared.errors import DomainError, EventDecodeError
from shared.metrics import ServiceMetrics
from shared.runtime import BatchHandler, Outgoing, Service

log = logging.getLogger("citymatch.dispatch")
_NAMESPACE = uuid.UUID("6f4c6484-b257-48d8-9f1e-c17aa7c4e0de")


@dataclass
class Delivery:
    outputs: list[tuple[str, Envelope]] = field(default_factory=list)
    dead_letter_reason: str | None = None
    error_type: str | None = None


def derived_event_id(parent: str, index: int, payload_key: str) -> str:
    """Output ids derive from the input id, so reprocessing a message republishes the same event ids."""
    return str(uuid.uuid5(_NAMESPACE, f"{parent}/{index}/{payload_key}"))


def wrap_outputs(service: str, outputs: list[Outgoing], parent_id: str) -> list[tuple[str, Envelope]]:
    """Envelopes for a handler's outputs, with ids derived from the input's (see :func:`derived_event_id`)."""
    return [
        (out.topic.name,
         Envelope.wrap(out.payload, service, event_id=derived_event_id(parent_id, i, out.payload.key())))
        for i, out in enumerate(outputs)
    ]


def deliver(service: Service, topic: str, raw: bytes | None, metrics: ServiceMetrics | None = None,
            record_key: bytes | None = None) -> Delivery:
    """Decode ``raw`` from ``topic`` and run the handler the service's table names for its payload type.

    Bad bytes, a type the topic does not carry, an unknown schema version, schema violations and broken
    business rules become a dead-letter reason; any other exception propagates, so the transport can retry
    (a database that is down is not the message's fault).
    """
    started = time.perf_counter()
    if metrics:
        metrics.messages_in.labels(service.name, topic).inc()
    spec = service.consumes(topic)
    if spec is None:
        return _dead(metrics, service, topic, f"{service.name} does not consume {topic}", "routing")
    try:
        envelope, payload = decode(raw, spec, record_key)
    except EventDecodeError as exc:
        return _dead(metrics, service, topic, f"undecodable message on {topic}: {exc}", "decode")
    handler = service.handlers[spec][type(payload)]
    try:
        outputs = list(handler(envelope, payload))
    except (DomainError, ValidationError) as exc:
        return _dead(metrics, service, topic, f"{envelope.event_type} {envelope.event_id} rejected: {exc}", "domain")
    except Exception:
        if metrics:
            metrics.errors.labels(service.name, topic).inc()
        raise
    finally:
        if metrics:
            metrics.processing.labels(service.name, topic).observe(time.perf_counter() - started)
    wrapped = wrap_outputs(service.name, outputs, envelope.event_id)
    if metrics:
        for out_topic, _ in wrapped:
            metrics.messages_out.labels(service.name, out_topic).inc()
    return Delivery(outputs=wrapped)


def _dead(metrics: ServiceMetrics | None, service: Service, topic: str, reason: str, kind: str) -> Delivery:
    """Every dead letter of a service is made here, so the dead-letter metric counts each one."""
    count_dead_letter(metrics, service.name, topic, reason)
    return Delivery(dead_letter_reason=reason, error_type=kind)


def count_dead_letter(metrics: ServiceMetrics | None, service: str, topic: str, reason: str) -> None:
    """Log and count one dead letter of ``service`` from ``topic`` (the charger gateway, which is no
    ``Service``, counts its own here too)."""
    log.warning("dead-lettering message", extra={"fields": {"service": service, "topic": topic, "reason": reason}})
    if metrics:
        metrics.dead_lettered.labels(service, topic).inc()


def dead_letter_headers(reason: str, kind: str, topic: str, partition: int, offset: int,
                        service: str) -> list[tuple[str, bytes]]:
    """The headers of a record on ``<topic>.dlq``: why, what kind of failure, where it came from, who sent it."""
    return [("x-dlq-reason", reason.encode()), ("x-dlq-error-type", kind.encode()),
            ("x-dlq-source-topic", topic.encode()), ("x-dlq-source-partition", str(partition).encode()),
            ("x-dlq-source-offset", str(offset).encode()), ("x-dlq-service", service.encode())]


def handler_failed(service: Service, topic: str, count: int, exc: BaseException, attempts: int,
                   metrics: ServiceMetrics | None = None) -> list[Delivery]:
    """Dead letters for ``count`` messages whose handler kept failing (the transport gave up retrying)."""
    reason = f"handler failed {attempts} times: {exc!r}"
    return [_dead(metrics, service, topic, reason, "handler") for _ in range(count)]


def deliver_batch(service: Service, topic: str, raws: list[bytes | None],
                  metrics: ServiceMetrics | None = None, keys: list[bytes | None] | None = None) -> list[Delivery]:
    """Like :func:`deliver` for many messages, through the topic's batch handler when the service has one.

    Bad messages are dead-lettered one by one; if the batch handler rejects the batch on a business rule,
    the messages are retried singly so only the offending one is dead-lettered.
    """
    keys = keys if keys is not None else [None] * len(raws)
    spec = service.consumes(topic)
    batch_handler = service.batch_handlers.get(spec) if spec is not None else None
    if spec is None or batch_handler is None:
        return [deliver(service, topic, raw, metrics, key) for raw, key in zip(raws, keys, strict=True)]
    started = time.perf_counter()
    results: list[Delivery | None] = [None] * len(raws)
    good: list[tuple[int, Envelope, object]] = []
    for i, raw in enumerate(raws):
        if metrics:
            metrics.messages_in.labels(service.name, topic).inc()
        try:
            envelope, payload = decode(raw, spec, keys[i])
        except EventDecodeError as exc:
            results[i] = _dead(metrics, service, topic, f"undecodable message on {topic}: {exc}", "decode")
            continue
        good.append((i, envelope, payload))
    good_by_index = {i: (env, payload) for i, env, payload in good}
    if good:
        try:
            outputs = batch_handler([(env, payload) for _, env, payload in good])
        except (DomainError, ValidationError):
            outputs = None
        except Exception:
            if metrics:
                metrics.errors.labels(service.name, topic).inc()
            raise
        if outputs is None:
            for i, _, _ in good:
                results[i] = _deliver_one_through_batch(service, spec, batch_handler, good_by_index[i], metrics)
        else:
            for (i, env, _), outs in zip(good, outputs, strict=True):
                results[i] = Delivery(outputs=wrap_outputs(service.name, list(outs), env.event_id))
                if metrics:
                    for out in outs:
                        metrics.messages_out.labels(service.name, out.topic.name).inc()
    if metrics:
        metrics.processing.labels(service.name, topic).observe(time.perf_counter() - started)
    return [r if r is not None else Delivery() for r in results]


def _deliver_one_through_batch(service: Service, spec: AnyTopic, batch_handler: BatchHandler,
                               message: tuple[Envelope, object], metrics: ServiceMetrics | None) -> Delivery:
    envelope, _ = message
    try:
        [outs] = batch_handler([message])
    except (DomainError, ValidationError) as exc:
        return _dead(metrics, service, spec.name, f"{envelope.event_type} {envelope.event_id} rejected: {exc}",
                     "domain")
    return Delivery(outputs=wrap_outputs(service.name, list(outs), envelope.event_id))
