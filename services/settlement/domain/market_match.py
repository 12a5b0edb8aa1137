"""Does the ledger hold exactly the trades the market published? The pure comparison, slot by slot.

Reconciling the ledger with itself (postings balance, kWh conserved) cannot see a trade that never reached
it. This compares the trade ids the market published per slot with the trade ids the ledger holds per slot
and names every slot where they differ, with both counts and the ids missing on either side.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class SlotDifference:
    slot: str
    market: int  # distinct trades the market published for the slot
    ledger: int  # trades the ledger holds for the slot
    missing: list[str] = field(default_factory=list)  # published, not on the ledger (the first few)
    unexpected: list[str] = field(default_factory=list)  # on the ledger, never published (the first few)

    def describe(self) -> str:
        parts = [f"slot {self.slot}: market published {self.market} trades, ledger holds {self.ledger}"]
        if self.missing:
            parts.append(f"missing on the ledger: {', '.join(self.missing)}")
        if self.unexpected:
            parts.append(f"not published by the market: {', '.join(self.unexpected)}")
        return "; ".join(parts)


@dataclass(frozen=True)
class MarketMatch:
    ok: bool
    slots: int  # slots with trades on either side
    market_trades: int
    ledger_trades: int
    differences: list[SlotDifference]

    def to_json(self) -> dict[str, object]:
        return {"ok": self.ok, "slots": self.slots, "market_trades": self.market_trades,
                "ledger_trades": self.ledger_trades,
                "differences": [{**vars(d), "summary": d.describe()} for d in self.differences]}


def match(market: Mapping[str, set[str]], ledger: Mapping[str, set[str]], show: int = 10) -> MarketMatch:
    """Compare trade ids per slot (slot keys as ISO strings in UTC); ``show`` caps the ids listed per slot."""
    differences = []
    for slot in sorted(set(market) | set(ledger)):
        published, held = market.get(slot, set()), ledger.get(slot, set())
        if published != held:
            differences.append(SlotDifference(slot, len(published), len(held), sorted(published - held)[:show],
                                              sorted(held - published)[:show]))
    return MarketMatch(not differences, len(set(market) | set(ledger)), sum(map(len, market.values())),
                       sum(map(len, ledger.values())), differences)
