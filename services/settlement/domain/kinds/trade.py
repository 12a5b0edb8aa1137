"""``trade``: one matched energy trade, its fee rates, its postings and the certificate it issues.

Body: ``{"trade": TradeFact.to_json(), "fees": {"platform_fee_per_kwh": "..."}, "postings": [...],
"certificate": Certificate.to_json() | null, "at": ISO time}``; ref = trade id; slot = the trade's slot.
Anchored: a leaf of its slot's Merkle tree.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any, ClassVar

from services.settlement.domain.certificates import Certificate, certificate_for, issue
from services.settlement.domain.chain import Draft, Entry
from services.settlement.domain.kinds.base import ChainState, EntryKind, ProjectedRow
from services.settlement.domain.money import FeeSchedule, kwh_to_wh
from services.settlement.domain.postings import Posting, TradeFact, paid_for, trade_legs
from shared.units import yen_to_sen

NAME = "trade"


def trade_draft(fact: TradeFact, fees: FeeSchedule, at: datetime) -> Draft:
    """The entry that settles ``fact`` under ``fees``, recorded at ``at``."""
    cert = certificate_for(fact)
    body = {
        "trade": fact.to_json(),
        "fees": {"platform_fee_per_kwh": str(fees.platform_fee_per_kwh)},
        "postings": trade_legs(fact.buyer, fact.seller, fact.kwh, fact.price, fact.wheeling_fee,
                               fees.platform_fee_per_kwh),
        "certificate": cert.to_json() if cert else None,
        "at": at.isoformat(),
    }
    return Draft(NAME, fact.trade_id, fact.slot.isoformat(), body)


def fact_of(entry: Entry) -> TradeFact:
    return TradeFact.from_json(entry.body["trade"])


def certificate_of(entry: Entry) -> Certificate | None:
    data: Mapping[str, Any] | None = entry.body.get("certificate")
    return Certificate.from_json(data) if data else None


class TradeKind(EntryKind):
    name: ClassVar[str] = NAME
    posting_kinds: ClassVar[tuple[str, ...]] = ("energy", "wheeling", "platform_fee", "delivery")

    def check(self, entry: Entry, body: dict[str, Any], state: ChainState) -> str | None:
        """The body restates the entry's trade and carries exactly the postings and certificate it implies."""
        trade = body["trade"]
        if trade["trade_id"] != entry.ref or trade["slot"] != entry.slot:
            return "trade body does not match the entry's reference or slot"
        kwh = Decimal(trade["kwh"])
        legs = trade_legs(trade["buyer"], trade["seller"], kwh, Decimal(trade["price"]),
                          Decimal(trade["wheeling_fee"]), Decimal(body["fees"]["platform_fee_per_kwh"]))
        if legs != body["postings"]:
            return "postings do not follow from the trade and its fees"
        cert = self._certificate(entry, trade)
        if body["certificate"] != (cert.to_json() if cert else None):
            return "certificate does not follow from the trade"
        state.memory(NAME)["checked"] = cert  # for apply, which follows a good check
        return None

    def parties(self, body: Mapping[str, Any]) -> frozenset[str]:
        return frozenset({body["trade"]["buyer"], body["trade"]["seller"]})

    def apply(self, entry: Entry, body: dict[str, Any], state: ChainState) -> None:
        cert = state.memory(NAME).pop("checked", None)
        if cert is not None:
            state.certificates[cert.cert_id] = cert

    @staticmethod
    def _certificate(entry: Entry, trade: Mapping[str, Any]) -> Certificate | None:
        if trade["renewable"] is not True:
            return None
        return issue(entry.ref, entry.slot or "", trade["seller"], trade["seller_site"],
                     kwh_to_wh(Decimal(trade["kwh"])), trade["buyer"])

    def rows(self, entry: Entry) -> list[ProjectedRow]:
        """``ledger_trades`` (one row) and ``ledger_certificates`` (for renewable kWh)."""
        fact = fact_of(entry)
        legs = self.postings(entry.body)
        out = [ProjectedRow("ledger_trades", trade_row(fact, entry, legs))]
        cert = certificate_of(entry)
        if cert is not None:
            out.append(ProjectedRow("ledger_certificates", {
                "cert_id": cert.cert_id, "trade_id": cert.trade_id, "slot": fact.slot,
                "source_participant": cert.source_participant, "source_site": cert.source_site, "wh": cert.wh,
                "owner": cert.owner, "issued_seq": entry.seq, "retired_seq": None, "retired_target": None}))
        return out


def trade_row(fact: TradeFact, entry: Entry, legs: tuple[Posting, ...]) -> dict[str, Any]:
    """The ``ledger_trades`` row: prices in sen/kWh (exact: prices carry at most two decimals)."""
    return {
        "trade_id": fact.trade_id, "chain": entry.chain, "seq": entry.seq, "slot": fact.slot,
        "seller": fact.seller, "buyer": fact.buyer, "wh": kwh_to_wh(fact.kwh),
        "price_sen": yen_to_sen(fact.price), "wheeling_sen": yen_to_sen(fact.wheeling_fee),
        "energy_sen": paid_for(legs, "energy"), "tier": fact.tier, "renewable": fact.renewable,
        "seller_site": fact.seller_site, "buyer_site": fact.buyer_site,
    }

