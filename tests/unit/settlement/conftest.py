"""Factories shared by the settlement unit tests: trades, a fixed signing key, ledgers (SQLite and the fake)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from services.settlement.domain.signing import Signer
from services.settlement.memory import InMemoryLedger
from services.settlement.ports import Ledger
from services.settlement.store import SqlLedger, open_ledger
from shared.contracts.energy import TradeMatched

KEY = bytes(range(32))
SLOT = datetime(2026, 11, 27, 0, 0, tzinfo=UTC)


def make_trade(n: int = 1, **overrides: Any) -> TradeMatched:
    fields: dict[str, Any] = {
        "trade_id": f"t{n}", "slot": SLOT, "seller": "pv-owner-a", "buyer": "ev-owner-b",
        "kwh": Decimal("1.500"), "price": Decimal("25.33"), "tier": "B", "wheeling_fee": Decimal("3.10"),
        "renewable": True, "seller_site": "ebina-roof-7",
    }
    fields.update(overrides)
    return TradeMatched(**fields)


@pytest.fixture
def trade() -> Callable[..., TradeMatched]:
    return make_trade


@pytest.fixture
def signer() -> Signer:
    return Signer.from_bytes(KEY)


@pytest.fixture
def ledger() -> Iterator[SqlLedger]:
    """The SQL adapter on an in-memory SQLite database."""
    ledger = open_ledger("sqlite://", KEY)
    yield ledger
    ledger.close()


@pytest.fixture
def fake_ledger() -> InMemoryLedger:
    """The in-memory fake of the Ledger port."""
    return InMemoryLedger(Signer.from_bytes(KEY))


@pytest.fixture(params=["sql", "memory"])
def any_ledger(request: pytest.FixtureRequest) -> Iterator[Ledger]:
    """Each adapter of the Ledger port in turn: a test using it holds for both."""
    if request.param == "memory":
        yield InMemoryLedger(Signer.from_bytes(KEY))
        return
    ledger = open_ledger("sqlite://", KEY)
    yield ledger
    ledger.close()
