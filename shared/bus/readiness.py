"""A worker's readiness: can this process do its job right now?

Ready means all of: the broker answers a metadata request within a short timeout; each of the service's own
checks passes within that timeout (settlement: the ledger database answers); the consumer has joined its
group and is not in the middle of a rebalance; and no handler, timer or publish is failing (see
:class:`shared.bus.resilience.Faults`). The probes run in the background every ``interval_s`` and /ready
answers from the latest round, so a probe never blocks the endpoint and an outage shows within about
``interval_s + timeout_s``.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from shared.bus.resilience import Faults

log = logging.getLogger("citymatch.readiness")


async def broker_answers(bootstrap: str, timeout_s: float) -> bool:
    """True when one of the bootstrap brokers answers a metadata request within ``timeout_s``."""
    from aiokafka.conn import create_conn
    from aiokafka.errors import KafkaError
    from aiokafka.protocol.metadata import MetadataRequest

    for address in bootstrap.split(","):
        host, _, port = address.strip().rpartition(":")
        try:
            conn = await asyncio.wait_for(
                create_conn(host, int(port), client_id="citymatch-readiness",
                            request_timeout_ms=int(timeout_s * 1000)), timeout_s)
        except (TimeoutError, OSError, KafkaError, ValueError):
            continue
        try:
            metadata = await asyncio.wait_for(conn.send(MetadataRequest([])), timeout_s)
            if metadata.brokers:
                return True
        except (TimeoutError, OSError, KafkaError):
            continue
        finally:
            conn.close()
    return False


@dataclass
class Readiness:
    bootstrap: str
    checks: dict[str, Callable[[], object]]
    faults: Faults
    consumer_ok: Callable[[], bool]
    timeout_s: float = 2.0
    interval_s: float = 1.0
    probed: dict[str, bool] = field(default_factory=dict)
    probed_at: float = 0.0

    async def probe(self) -> dict[str, bool]:
        """One round of the broker probe and the service's checks (each bounded by ``timeout_s``)."""
        results = {"broker": await broker_answers(self.bootstrap, self.timeout_s)}
        for name, check in self.checks.items():
            try:
                await asyncio.wait_for(asyncio.to_thread(check), self.timeout_s)
                results[name] = True
            except Exception as exc:  # a readiness check reports, it does not raise
                if self.probed.get(name, True):
                    log.warning("readiness check %s failed: %r", name, exc)
                results[name] = False
        self.probed, self.probed_at = results, time.monotonic()
        return results

    async def run(self) -> None:
        while True:
            await self.probe()
            await asyncio.sleep(self.interval_s)

    def report(self) -> dict[str, object]:
        """The answer of /ready: overall verdict, each check, and what is failing now (if anything)."""
        fresh = time.monotonic() - self.probed_at < self.interval_s + 2 * self.timeout_s + 1
        checks = {**self.probed, "consumer": self.consumer_ok(), "probes_fresh": fresh}
        failing = self.faults.active()
        checks["work"] = not failing
        ready = bool(self.probed) and all(checks.values())
        return {"ready": ready, "checks": checks, **({"failing": failing} if failing else {})}
