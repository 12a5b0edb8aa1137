"""What goes into each kind of ledger entry, and how to read it back.

* ``trade``: the trade fact, the fee rates applied, the postings they produce and the certificate issued.
* ``retirement``: a certificate retired by its owner against a renewable target.
* ``anchor``: the Merkle root over the trade entries of one slot, as published on ``ledger.anchors``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from services.settlement.domain.certificates import Certificate, Retirement, certificate_for
from services.settlement.domain.chain import ANCHOR, RETIREMENT, TRADE, Draft, Entry
from services.settlement.domain.money import FeeSchedule
from services.settlement.domain.postings import Posting, TradeFact, trade_legs


def trade_draft(fact: TradeFact, fees: FeeSchedule, at: datetime) -> Draft:
    cert = certificate_for(fact)
    body = {
        "trade": fact.to_json(),
        "fees": {"platform_fee_per_kwh": str(fees.platform_fee_per_kwh)},
        "postings": trade_legs(fact.buyer, fact.seller, fact.kwh, fact.price, fact.wheeling_fee,
                               fees.platform_fee_per_kwh),
        "certificate": cert.to_json() if cert else None,
        "at": at.isoformat(),
    }
    return Draft(TRADE, fact.trade_id, fact.slot.isoformat(), body)


def retirement_draft(retirement: Retirement, slot: str, at: datetime) -> Draft:
    return Draft(RETIREMENT, retirement.cert_id, slot, {**retirement.to_json(), "at": at.isoformat()})


def anchor_ref(slot: str, entries: int) -> str:
    return f"{slot}#{entries}"


def anchor_draft(slot: str, root: str, entries: int, at: datetime) -> Draft:
    return Draft(ANCHOR, anchor_ref(slot, entries), slot,
                 {"slot": slot, "merkle_root": root, "entries": entries, "at": at.isoformat()})


def postings_of(entry: Entry) -> tuple[Posting, ...]:
    return tuple(Posting.from_json(row) for row in entry.body.get("postings", ()))


def fact_of(entry: Entry) -> TradeFact:
    return TradeFact.from_json(entry.body["trade"])


def certificate_of(entry: Entry) -> Certificate | None:
    data: Mapping[str, Any] | None = entry.body.get("certificate")
    return Certificate.from_json(data) if data else None
