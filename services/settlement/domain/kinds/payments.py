"""What the money-only kinds share: a fact that names who pays whom, its legs, and the check that recomputes them.

Rewards, campaign funding, ride fares and charging bills are each one small module: a frozen fact with integer
sen, ``ref`` (the one thing paid: the ledger keeps one entry per ``(kind, ref)``, so a redelivered event
pays nothing twice), ``when`` (which slot's anchor covers it) and ``legs()``. The body is
``{"fact": fact.to_json(), "postings": fact.legs(), "at": ISO time}``; ``verify`` rebuilds the fact from the
body and refuses an entry whose postings, reference or slot do not follow from it.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, ClassVar, Protocol

from services.settlement.domain.chain import Draft, Entry
from services.settlement.domain.kinds.base import ChainState, EntryKind
from shared.units import slot_start


class PaymentFact(Protocol):
    @property
    def ref(self) -> str: ...

    @property
    def when(self) -> datetime: ...

    def legs(self) -> list[list[Any]]: ...

    def parties(self) -> frozenset[str]: ...

    def problem(self) -> str | None: ...

    def to_json(self) -> dict[str, Any]: ...


def slot_of(moment: datetime) -> str:
    """ISO UTC start of the market slot ``moment`` falls in: a payment sits under that slot's anchor (naive
    times are refused, not guessed)."""
    if moment.tzinfo is None:
        raise ValueError("payment times must carry a time zone")
    return slot_start(moment).isoformat()


def utc_time(text: str) -> datetime:
    """A stored ISO time back as an aware datetime (bodies keep UTC offsets)."""
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        raise ValueError(f"time {text!r} has no offset")
    return moment


def split_legs(payer: str, operator_account: str, platform: str, jpy: str, total_sen: int, payout_sen: int,
               paid_as: str) -> list[list[Any]]:
    """A service paid by ``payer`` and split: the operator's payout, the platform's fee the rest (zero rows
    left out). Ride fares and delivery fees are the same split; only who pays and what for differ."""
    legs = [[payer, jpy, -total_sen, paid_as], [operator_account, jpy, payout_sen, "payout"],
            [platform, jpy, total_sen - payout_sen, "platform_fee"]]
    return [leg for leg in legs if leg[2] != 0]


def split_problem(total_sen: int, payout_sen: int, what: str) -> str | None:
    """The split's rules: nothing negative, and the payout never more than was paid."""
    if total_sen < 0 or payout_sen < 0:
        return f"a {what} and its payout must not be negative"
    if payout_sen > total_sen:
        return f"a {what}'s payout must not exceed it"
    return None


def payment_draft(kind: str, fact: PaymentFact, at: datetime) -> Draft:
    """The entry that pays ``fact``, recorded at ``at``; refuses a fact that breaks its own rules."""
    problem = fact.problem()
    if problem is not None:
        raise ValueError(problem)
    return Draft(kind, fact.ref, slot_of(fact.when), {"fact": fact.to_json(), "postings": fact.legs(),
                                                      "at": at.isoformat()})


class PaymentKind(EntryKind):
    """A kind whose body is one payment fact; subclasses name the fact type and its posting kinds."""

    fact_type: ClassVar[Any]

    def fact(self, body: Mapping[str, Any]) -> PaymentFact:
        fact: PaymentFact = self.fact_type.from_json(body["fact"])
        return fact

    def check(self, entry: Entry, body: dict[str, Any], state: ChainState) -> str | None:
        try:
            fact = self.fact(body)
        except (KeyError, TypeError, ValueError) as exc:
            return f"{self.name} body is not a valid fact: {exc}"
        if fact.ref != entry.ref or slot_of(fact.when) != entry.slot:
            return f"{self.name} body does not match the entry's reference or slot"
        problem = fact.problem()
        if problem is not None:
            return problem
        if fact.legs() != body["postings"]:
            return f"postings do not follow from the {self.name}"
        return None

    def parties(self, body: Mapping[str, Any]) -> frozenset[str]:
        return self.fact(body).parties()
