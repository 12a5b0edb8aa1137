"""Accounts over an in-memory SQLite store, a cheap Argon2 cost and a clock the test moves."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest

from services.gateway.accounts.passwords import Passwords, cheap_hasher
from services.gateway.accounts.service import Accounts
from services.gateway.accounts.store import open_store

SECRET = "accounts-unit-secret"
PASSWORD = "green-kWh-2026"


@dataclass
class Clock:
    now: datetime = field(default_factory=lambda: datetime(2026, 11, 30, 9, 0, tzinfo=UTC))

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kw: float) -> None:
        self.now += timedelta(**kw)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def accounts(clock):
    acc = Accounts(open_store("sqlite://"), SECRET, passwords=Passwords(cheap_hasher()), clock=clock)
    yield acc
    acc.close()
