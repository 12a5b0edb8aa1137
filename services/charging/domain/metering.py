"""Metered sessions from what chargers report: what was delivered is what is billed, not what was planned.

A session opens with StartTransaction (meter at start, Wh), moves with each MeterValues reading of the
energy register, and closes with StopTransaction (meter at stop). A charger that drops off mid-session
leaves its last reading standing: the session bills what the meter showed last until the charger comes
back and reports more (or stops). Registers only count up; a reading below the last one is refused.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime


class MeterError(ValueError):
    """A reading that cannot be right (unknown transaction, a register running backwards)."""


@dataclass(frozen=True)
class Session:
    transaction_id: int
    charger: str
    connector: int
    vehicle: str
    meter_start_wh: int
    started_at: datetime
    last_wh: int
    last_at: datetime
    stopped_at: datetime | None = None

    @property
    def delivered_wh(self) -> int:
        return self.last_wh - self.meter_start_wh

    @property
    def open(self) -> bool:
        return self.stopped_at is None


@dataclass
class Meter:
    """All sessions of a central system, by transaction id (which the central system hands out)."""

    sessions: dict[int, Session] = field(default_factory=dict)
    next_id: int = 1

    def start(self, charger: str, connector: int, vehicle: str, meter_start_wh: int, at: datetime) -> Session:
        session = Session(self.next_id, charger, connector, vehicle, meter_start_wh, at, meter_start_wh, at)
        self.sessions[session.transaction_id] = session
        self.next_id += 1
        return session

    def reading(self, transaction_id: int, register_wh: int, at: datetime) -> Session:
        session = self._get(transaction_id)
        if register_wh < session.last_wh:
            raise MeterError(f"transaction {transaction_id}: register fell from {session.last_wh} to {register_wh} Wh")
        session = replace(session, last_wh=register_wh, last_at=at)
        self.sessions[transaction_id] = session
        return session

    def stop(self, transaction_id: int, meter_stop_wh: int, at: datetime) -> Session:
        session = self.reading(transaction_id, meter_stop_wh, at)
        session = replace(session, stopped_at=at)
        self.sessions[transaction_id] = session
        return session

    def _get(self, transaction_id: int) -> Session:
        try:
            return self.sessions[transaction_id]
        except KeyError:
            raise MeterError(f"unknown transaction {transaction_id}") from None
