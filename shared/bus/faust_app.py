"""Binds a :class:`shared.runtime.Service` to Kafka through faust-streaming agents.

One agent per consumed topic: decode, call the handler, publish the outputs and wait for the broker's
acknowledgement, then let Faust commit the offset. So a crash can only cause redelivery, never loss, and
idempotent handlers turn that into an exactly-once effect. Undecodable or rule-breaking messages go to
``<topic>.dlq`` with the original bytes and the reason in headers; the agent goes on with the next message.

Serialised: a service's handlers, timers, start hook and replays all run on **one thread per service**
(``_Serial``), one call at a time, so a service's in-memory state (the market's order books and
acknowledgement tracker) is never changed by two of them at once. Handlers may block (on a database): the
event loop stays free for the consumer, the producer and /ready.

Outages are transient everywhere (``shared.bus.resilience``): a handler that fails for a reason that is not
the message's, a timer tick, a publish the broker does not acknowledge — each is retried with bounded
backoff until it succeeds, reported by /ready as not-ready meanwhile, and never crashes the worker.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

import faust

from shared.bus.dispatch import Delivery, deliver_batch, handler_failed, wrap_outputs
from shared.bus.readiness import Readiness
from shared.bus.replay import replay, replay_gap
from shared.bus.resilience import Backoff, Faults, retry_async, retry_blocking
from shared.contracts.catalogue import topic as catalogue_topic
from shared.contracts.codec import encode
from shared.errors import RetryableError
from shared.logs import json_logging_config
from shared.metrics import ServiceMetrics
from shared.runtime import Service, Timer
from shared.settings import Settings

T = TypeVar("T")
log = logging.getLogger("citymatch.faust")
RETRIES = 3  # attempts before an unexpected handler error dead-letters (services that do not retry forever)
BATCH = 500
BATCH_WAIT_S = 0.02
BACKOFF = Backoff(first_s=0.2, max_s=5.0)
# A SIGKILLed worker leaves its group after this long, and its partitions move to the survivors.
SESSION_TIMEOUT_S = 10.0
HEARTBEAT_S = 1.0
# A publish the broker has not acknowledged within this long fails and is retried (an outage, said by /ready).
PRODUCE_TIMEOUT_S = 30.0


class _Serial:
    """The one thread on which a service's handlers, timers and replays run, one at a time."""

    def __init__(self, name: str) -> None:
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"{name}-serial")

    async def run(self, fn: Callable[[], T]) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._executor, fn)


def build_app(service: Service, settings: Settings, faults: Faults | None = None,
              replayed: dict[str, dict[int, int]] | None = None) -> faust.App:
    """The Faust app of ``service``; ``replayed`` says, per topic and partition, up to which offset the start-up
    replay fed the service's state (later gaps are replayed before the first message after them)."""
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
        producer_request_timeout=PRODUCE_TIMEOUT_S,
        broker_session_timeout=SESSION_TIMEOUT_S,
        broker_heartbeat_interval=HEARTBEAT_S,
        broker_commit_every=100,
        broker_commit_interval=0.5,
    )
    metrics = ServiceMetrics(service.name)
    faults = faults or Faults()
    serial = _Serial(service.name)
    topics: dict[str, faust.TopicT] = {}
    assigned = {"once": False}

    def out_topic(name: str) -> faust.TopicT:
        if name not in topics:
            spec = catalogue_topic(name.removesuffix(".dlq"))
            topics[name] = app.topic(name, value_serializer="raw", key_serializer="raw",
                                     partitions=spec.partitions)
        return topics[name]

    async def publish_once(outputs: list) -> None:
        # Straight to the producer (aiokafka under Faust): Faust's per-message channel machinery
        # (FutureMessage, callbacks, sensors per topic object) cost more than the send itself. Partitioning is
        # the same (the producer's key hash); all sends are queued before any is awaited, so they share requests.
        producer = await app.maybe_start_producer()
        futures = []
        for name, item in outputs:
            if isinstance(item, tuple):  # a dead letter: original key, bytes and reason headers
                key, value, headers = item
                futures.append(await producer.send(name, key, value, partition=None, timestamp=None,
                                                   headers=headers))
            else:
                futures.append(await producer.send(name, item.key.encode(), encode(item), partition=None,
                                                   timestamp=None, headers=None))
        for fut in futures:
            await fut  # wait for the broker's ack before the source offsets may be committed

    async def publish(outputs: list) -> None:
        """Publish until the broker acknowledges all of it; a repeat after a failed attempt is harmless
        (event ids derive from the input's, so consumers drop the copies)."""
        if outputs:
            await retry_async(f"{service.name}: publish", lambda: publish_once(outputs), faults, BACKOFF,
                              on_failure=lambda: metrics.errors.labels(service.name, "publish").inc())

    for topic_name in service.topic_names():
        _bind_agent(app, service, topic_name, out_topic(topic_name), metrics, publish, serial, faults,
                    settings.kafka_bootstrap, (replayed or {}).get(topic_name))
    for i, timer in enumerate(service.timers):
        _bind_timer(app, service, i, timer, publish, serial, faults)

    def consumer_ok() -> bool:
        return assigned["once"] and not app.rebalancing

    readiness = Readiness(settings.kafka_bootstrap, dict(service.readiness), faults, consumer_ok)

    @app.on_partitions_assigned.connect
    async def _assigned(sender, assigned_tps, **kwargs) -> None:
        assigned["once"] = True

    @app.task
    async def probe_readiness() -> None:
        await readiness.run()

    @app.page("/health")
    async def health(web, request):
        return web.json({"service": service.name, "status": "ok"})

    @app.page("/ready")
    async def ready(web, request):
        report = readiness.report()
        return web.json({"service": service.name, **report, "partitions": _assignment(app)},
                        status=200 if report["ready"] else 503)

    @app.page("/metrics")
    async def prometheus(web, request):
        return web.bytes(metrics.render(), content_type="text/plain; version=0.0.4")

    if service.on_start:
        @app.task
        async def on_start() -> None:
            await retry_async(f"{service.name}: start", lambda: serial.run(service.on_start), faults, BACKOFF)

    app.citymatch_faults = faults  # type: ignore[attr-defined]  # for tests
    return app


def _assignment(app: faust.App) -> list[str]:
    """The partitions this worker consumes now, as ``topic[partition]`` (which worker owns what, for operators)."""
    try:
        return sorted(f"{tp.topic}[{tp.partition}]" for tp in app.consumer.assignment()
                      if not tp.topic.startswith(app.conf.id))
    except Exception:  # not started yet
        return []


def _bind_agent(app, service: Service, topic_name: str, source, metrics, publish, serial: _Serial,
                faults: Faults, bootstrap: str, seen_at_start: dict[int, int] | None) -> None:
    # For a topic that feeds in-memory state: per partition, the offset up to which that state has seen it.
    seen = dict(seen_at_start) if seen_at_start is not None else None

    async def fill_gaps(events) -> None:
        """Before the first message of a partition this worker did not follow (it just moved here), replay
        what its previous owner handled, so the state misses nothing (see shared.bus.replay)."""
        first: dict[int, int] = {}
        for e in events:
            first[e.message.partition] = min(first.get(e.message.partition, e.message.offset), e.message.offset)
        for partition, offset in sorted(first.items()):
            since = seen.get(partition, 0)
            if since < offset:
                await retry_async(
                    f"{service.name}: replay of {topic_name}[{partition}]",
                    lambda p=partition, a=since, b=offset: serial.run(
                        lambda: replay_gap(service, bootstrap, topic_name, p, a, b)), faults, BACKOFF)
        for e in events:
            seen[e.message.partition] = max(seen.get(e.message.partition, 0), e.message.offset + 1)

    async def process(stream):
        # Batches amortise the broker round trips; offsets are committed only after the whole batch's
        # outputs (and dead letters) are acknowledged, so a crash mid-batch means redelivery, not loss.
        async for events in stream.take_events(BATCH, within=BATCH_WAIT_S):
            if seen is not None:
                await fill_gaps(events)
            raws = [e.value for e in events]
            keys = [e.key for e in events]
            outputs, dead = await serial.run(
                lambda raws=raws, keys=keys: _deliver_batch(service, topic_name, raws, metrics, faults, keys))
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


def _deliver_batch(service: Service, topic_name: str, raws: list, metrics, faults: Faults,
                   keys: list | None = None):
    """Run the handlers on a batch in order (on the service's thread: handlers may block on a database).

    ``keys`` are the records' keys, checked against each envelope's. Returns the outputs and the dead letters
    as (index, (reason, kind)).
    """
    outputs: list = []
    dead: list = []
    for i, result in enumerate(_deliver_with_retries(service, topic_name, raws, metrics, faults, keys)):
        if result.dead_letter_reason is not None:
            dead.append((i, (result.dead_letter_reason, result.error_type or "unknown")))
        outputs.extend(result.outputs)
    return outputs, dead


def _deliver_with_retries(service: Service, topic_name: str, raws: list, metrics,
                          faults: Faults, keys: list | None = None) -> list[Delivery]:
    """Deliver a batch; failures that are not the message's fault are retried with bounded backoff.

    A :class:`RetryableError` (an outage, a solver that failed) is retried until it succeeds, and so is any
    error of a service that retries forever (the ledger: a skipped trade would never settle). Any other
    unexpected error dead-letters the batch after ``RETRIES`` attempts, with the error as the reason.
    """
    what = f"{service.name}: handler for {topic_name}"
    started = time.monotonic()
    for attempt, delay in enumerate(BACKOFF.delays(), start=1):
        try:
            result = deliver_batch(service, topic_name, raws, metrics, keys)
        except Exception as exc:
            forever = service.retry_forever or isinstance(exc, RetryableError)
            if faults.failing(what, exc) or attempt == 1:
                log.error("%s failed on %d messages; %s", what, len(raws),
                          "retrying until it succeeds" if forever else f"retrying up to {RETRIES} times",
                          exc_info=exc, extra={"fields": {"service": service.name, "topic": topic_name,
                                                          "attempt": attempt, "messages": len(raws)}})
            if not forever and attempt >= RETRIES:
                faults.recovered(what)
                return handler_failed(service, topic_name, len(raws), exc, attempt, metrics)
            time.sleep(delay)
            continue
        if faults.recovered(what):
            log.warning("%s works again after %d attempts (%.1f s)", what, attempt, time.monotonic() - started)
        return result
    raise AssertionError("unreachable")


def _bind_timer(app, service: Service, index: int, timer: Timer, publish, serial: _Serial,
                faults: Faults) -> None:
    what = f"{service.name}: timer {getattr(timer.tick, '__name__', index)}"

    async def fire() -> None:
        outputs = await retry_async(what, lambda: serial.run(lambda: list(timer.tick())), faults, BACKOFF)
        if outputs:
            await publish(wrap_outputs(service.name, outputs, f"timer/{service.name}"))

    fire.__name__ = f"{service.name}_timer_{index}"
    app.timer(interval=timer.interval_s)(fire)


def run_worker(service: Service, settings: Settings) -> None:
    """Run ``service`` as a Faust worker until SIGTERM/SIGINT (after rebuilding its in-memory state)."""
    faults = Faults()
    replayed = {topic.name: retry_blocking(
        f"{service.name}: replay of {topic.name}",
        lambda t=topic.name, w=window: replay(service, settings.kafka_bootstrap, t, w), faults, BACKOFF)
        for topic, window in service.replay.items()}
    app = build_app(service, settings, faults, replayed)
    worker = faust.Worker(app, loglevel=settings.log_level.lower(), logging_config=json_logging_config(
        settings.log_level, service.name))
    worker.execute_from_commandline()
