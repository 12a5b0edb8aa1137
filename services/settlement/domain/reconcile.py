"""Reconciliation as small pure checks over entries: each returns the problems it finds (none = fine).

* every entry's postings sum to zero per commodity;
* per slot, the kWh sellers delivered equal the kWh buyers received, and equal the traded kWh;
* the money moved for each trade equals its kWh x price and kWh x wheeling fee under the rounding rule;
* no trade has the same party as seller and buyer (a self-trade moves nothing and would hide wash trading);
* the postings table, if given, holds exactly the postings the entries carry.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from services.settlement.domain.chain import Entry
from services.settlement.domain.entries import fact_of, postings_of
from services.settlement.domain.kinds.trade import NAME as TRADE
from services.settlement.domain.money import amount_sen, kwh_to_wh, sen_to_yen, wh_to_kwh
from services.settlement.domain.postings import KWH, Posting, imbalance, paid_for

StoredPosting = tuple[str, int, Posting]  # (chain, seq, posting)


@dataclass(frozen=True)
class ReconcileReport:
    ok: bool
    problems: list[str]
    trades: int
    kwh: str
    energy_yen: str
    account_totals: dict[str, dict[str, int]] = field(default_factory=dict)

    def to_json(self) -> dict[str, object]:
        return {"ok": self.ok, "problems": self.problems, "trades": self.trades, "kwh": self.kwh,
                "energy_yen": self.energy_yen}


def postings_balance(entries: Sequence[Entry]) -> list[str]:
    return [f"{e.chain}#{e.seq}: postings do not balance {imbalance(postings_of(e))}"
            for e in entries if imbalance(postings_of(e))]


def energy_conserved(entries: Sequence[Entry]) -> list[str]:
    delivered: dict[str | None, int] = defaultdict(int)
    received: dict[str | None, int] = defaultdict(int)
    traded: dict[str | None, int] = defaultdict(int)
    for e in entries:
        if e.kind != TRADE:
            continue
        traded[e.slot] += kwh_to_wh(fact_of(e).kwh)
        for p in postings_of(e):
            if p.commodity == KWH:
                (received if p.amount > 0 else delivered)[e.slot] += abs(p.amount)
    return [f"slot {slot}: sold {wh_to_kwh(delivered[slot])} kWh, bought {wh_to_kwh(received[slot])} kWh, "
            f"traded {wh_to_kwh(wh)} kWh"
            for slot, wh in sorted(traded.items(), key=lambda kv: kv[0] or "")
            if not delivered[slot] == received[slot] == wh]


def money_matches_trades(entries: Sequence[Entry]) -> list[str]:
    problems = []
    for e in entries:
        if e.kind != TRADE:
            continue
        fact, legs = fact_of(e), postings_of(e)
        energy, wheeling = paid_for(legs, "energy"), paid_for(legs, "wheeling")
        if energy != amount_sen(fact.kwh, fact.price) or wheeling != amount_sen(fact.kwh, fact.wheeling_fee):
            problems.append(f"{e.chain}#{e.seq}: trade {fact.trade_id} moved {sen_to_yen(energy)} + "
                            f"{sen_to_yen(wheeling)} yen, its kWh x prices say otherwise")
    return problems


def no_self_trades(entries: Sequence[Entry]) -> list[str]:
    return [f"{e.chain}#{e.seq}: trade {f.trade_id} has {f.seller} as both seller and buyer"
            for e in entries if e.kind == TRADE for f in (fact_of(e),) if f.seller == f.buyer]


def stored_postings_match(entries: Sequence[Entry], stored: Iterable[StoredPosting]) -> list[str]:
    expected = {(e.chain, e.seq): list(postings_of(e)) for e in entries}
    found: dict[tuple[str, int], list[Posting]] = defaultdict(list)
    for chain, seq, posting in stored:
        found[(chain, seq)].append(posting)
    keys = sorted(set(expected) | set(found))
    return [f"{c}#{s}: postings table differs from the entry" for c, s in keys
            if expected.get((c, s), []) != found.get((c, s), [])]


CHECKS: tuple[Callable[[Sequence[Entry]], list[str]], ...] = (
    postings_balance, energy_conserved, money_matches_trades, no_self_trades)


def account_totals(entries: Iterable[Entry]) -> dict[str, dict[str, int]]:
    totals: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for e in entries:
        for p in postings_of(e):
            totals[p.account][p.commodity] += p.amount
    return {a: dict(c) for a, c in totals.items()}


def reconcile(entries: Sequence[Entry], stored: Iterable[StoredPosting] | None = None) -> ReconcileReport:
    problems = [p for check in CHECKS for p in check(entries)]
    if stored is not None:
        problems += stored_postings_match(entries, stored)
    trades = [e for e in entries if e.kind == TRADE]
    facts = [fact_of(e) for e in trades]
    wh = sum(kwh_to_wh(f.kwh) for f in facts)
    energy = sum(amount_sen(f.kwh, f.price) for f in facts)
    return ReconcileReport(not problems, problems, len(trades), str(wh_to_kwh(wh)), str(sen_to_yen(energy)),
                           account_totals(entries))
