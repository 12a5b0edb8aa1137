"""Factories shared by the settlement unit tests: trades, a fixed signing key, an in-memory ledger."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from services.settlement.domain.signing import Signer
from services.settlement.store import Ledger, open_ledger
from shared.events import TradeMatched

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
def ledger() -> Iterator[Ledger]:
    ledger = open_ledger("sqlite://", KEY)
    yield ledger
    ledger.close()
