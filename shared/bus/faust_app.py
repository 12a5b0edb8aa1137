"""Binds a :class:`shared.runtime.Service` to Kafka through faust-streaming agents.

One agent per consumed topic: decode, call the handler (in a worker thread, since handlers may block on a
database), publish the outputs and wait for the broker's acknowledgement, then let Faust commit the offset.
So a crash can only cause redelivery, never loss, and idempotent handlers turn that into an exactly-once
effect. Undecodable or rule-breaking messages go to ``<topic>.dlq`` with the original bytes and the reason in
headers; the agent goes on with the next message.
"""

from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path

import faust

from shared.bus.dispatch import Delivery, deliver_batch, wrap_outputs
from shared.logs import json_logging_config
from shared.metrics import ServiceMetrics
from shared.runtime import Service, Timer
from shared.serialization import encode
from shared.settings import Settings
from shared.topics import topic as catalogue_topic

log = logging.getLogger("citymatch.faust")
RETRIES = 3
BATCH = 500
BATCH_WAIT_S = 0.02


def build_app(service: Service, settings: Settings) -> faust.App:
    datadir = Path(settings.data_dir) / "faust" / service.name
    datadir.mkdir(parents=True, exist_ok=True)
    app = faust.App(
        f"citymatch-{service.name}",
        broker=f"kafka://{settings.kafka_bootstrap}",
        value_serializer="raw",
        key_serializer="raw",
        datadir=str(datadir),
        web_host="127.0.0.1",
        web_bind="127.0.0.1",
        web_port=settings.web_port,
        topic_replication_factor=1,
        topic_partitions=1,
        consumer_auto_offset_reset="earliest",
        producer_acks=-1,
        broker_commit_every=100,
        broker_commit_interval=0.5,
    )
    metrics = ServiceMetrics(service.name)
    topics: dict[str, faust.TopicT] = {}

    def out_topic(name: str) -> faust.TopicT:
        if name not in topics:
            spec = catalogue_topic(name.removesuffix(".dlq"))
            topics[name] = app.topic(name, value_serializer="raw", key_serializer="raw",
                                     partitions=spec.partitions)
        return topics[name]

    async def publish(outputs: list) -> None:
        futures = []
        for name, item in outputs:
            if isinstance(item, tuple):  # a dead letter: original key, bytes and reason headers
                key, value, headers = item
                futures.append(await out_topic(name).send(key=key, value=value, headers=headers))
            else:
                futures.append(await out_topic(name).send(key=item.key.encode(), value=encode(item)))
        for fut in futures:
            await fut  # wait for the broker's ack before the source offsets may be committed

    for topic_name in {**service.handlers, **service.batch_handlers}:
        _bind_agent(app, service, topic_name, out_topic(topic_name), metrics, publish, out_topic)
    for i, timer in enumerate(service.timers):
        _bind_timer(app, service, i, timer, publish)

    @app.page("/health")
    async def health(web, request):
        return web.json({"service": service.name, "status": "ok"})

    @app.page("/ready")
    async def ready(web, request):
        """Ready once the worker has joined its consumer group and is not in the middle of a rebalance."""
        ok = not app.rebalancing
        return web.json({"service": service.name, "ready": ok}, status=200 if ok else 503)

    @app.page("/metrics")
    async def prometheus(web, request):
        return web.bytes(metrics.render(), content_type="text/plain; version=0.0.4")

    if service.on_start:
        @app.task
        async def on_start() -> None:
            await asyncio.to_thread(service.on_start)

    return app


def _bind_agent(app, service: Service, topic_name: str, source, metrics, publish, out_topic) -> None:
    async def process(stream):
        # Batches amortise the broker round trips; offsets are committed only after the whole batch's
        # outputs (and dead letters) are acknowledged, so a crash mid-batch means redelivery, not loss.
        async for events in stream.take_events(BATCH, within=BATCH_WAIT_S):
            outputs, dead = await asyncio.to_thread(_deliver_batch, service, topic_name, [e.value for e in events],
                                                    metrics)
            for event, (reason, kind) in dead:
                headers = {
                    "x-dlq-reason": reason.encode(),
                    "x-dlq-error-type": kind.encode(),
                    "x-dlq-source-topic": topic_name.encode(),
                    "x-dlq-source-partition": str(events[event].message.partition).encode(),
                    "x-dlq-source-offset": str(events[event].message.offset).encode(),
                    "x-dlq-service": service.name.encode(),
                }
                outputs.append((f"{topic_name}.dlq", (events[event].key, events[event].value, headers)))
            await publish(outputs)

    app.agent(source, name=f"{service.name}.{topic_name}")(process)


def _deliver_batch(service: Service, topic_name: str, raws: list, metrics):
    """Run the handlers on a batch in order (in a worker thread: handlers may block on a database).

    Returns the outputs and the dead letters as (index, (reason, kind)).
    """
    outputs: list = []
    dead: list = []
    for i, result in enumerate(_deliver_with_retries(service, topic_name, raws, metrics)):
        if result.dead_letter_reason is not None:
            dead.append((i, (result.dead_letter_reason, result.error_type or "unknown")))
        outputs.extend(result.outputs)
    return outputs, dead


def _deliver_with_retries(service: Service, topic_name: str, raws: list, metrics) -> list[Delivery]:
    attempt = 0
    while True:
        attempt += 1
        try:
            return deliver_batch(service, topic_name, raws, metrics)
        except Exception as exc:
            log.exception("handler failed", extra={"fields": {"service": service.name, "topic": topic_name,
                                                              "attempt": attempt, "messages": len(raws)}})
            if attempt >= RETRIES and not service.retry_forever:
                reason = f"handler failed {RETRIES} times: {exc!r}"
                return [Delivery(dead_letter_reason=reason, error_type="handler") for _ in raws]
            time.sleep(min(30.0, 0.5 * 2 ** min(attempt, 6)))


def _bind_timer(app, service: Service, index: int, timer: Timer, publish) -> None:
    async def fire() -> None:
        outputs = await asyncio.to_thread(lambda: list(timer.tick()))
        if outputs:
            await publish(wrap_outputs(service.name, outputs, f"timer/{service.name}"))

    fire.__name__ = f"{service.name}_timer_{index}"
    app.timer(interval=timer.interval_s)(fire)


def run_worker(service: Service, settings: Settings) -> None:
    """Run ``service`` as a Faust worker until SIGTERM/SIGINT (after rebuilding its in-memory state)."""
    from shared.bus.replay import replay

    for topic_name, window in service.replay.items():
        replay(service, settings.kafka_bootstrap, topic_name, window)
    app = build_app(service, settings)
    worker = faust.Worker(app, loglevel=settings.log_level.lower(), logging_config=json_logging_config(
        settings.log_level, service.name))
    worker.execute_from_commandline()
