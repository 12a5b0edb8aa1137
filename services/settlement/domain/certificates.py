"""Renewable-origin certificates: kWh of renewable origin become a certificate the buyer owns.

A certificate names where and when the energy came from (seller, site/device, slot) and how many Wh.
Its owner may retire it against their renewable target exactly once; after that it counts towards that
target and can never be retired again. Issue and retirement are both ledger entries, so the history of
every certificate is on the hash chain.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from services.settlement.domain.money import kwh_to_wh
from services.settlement.domain.postings import TradeFact


@dataclass(frozen=True)
class Certificate:
    cert_id: str
    trade_id: str
    slot: str
    source_participant: str
    source_site: str | None
    wh: int
    owner: str

    def to_json(self) -> dict[str, Any]:
        return {"cert_id": self.cert_id, "trade_id": self.trade_id, "slot": self.slot,
                "source_participant": self.source_participant, "source_site": self.source_site,
                "wh": self.wh, "owner": self.owner}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Certificate:
        return cls(data["cert_id"], data["trade_id"], data["slot"], data["source_participant"],
                   data.get("source_site"), int(data["wh"]), data["owner"])


def certificate_id(trade_id: str) -> str:
    return f"REC-{trade_id}"


def certificate_for(fact: TradeFact) -> Certificate | None:
    """The certificate a renewable trade issues to its buyer (``None`` for grey energy)."""
    if not fact.renewable:
        return None
    return issue(fact.trade_id, fact.slot.isoformat(), fact.seller, fact.seller_site, kwh_to_wh(fact.kwh),
                 fact.buyer)


def issue(trade_id: str, slot: str, seller: str, seller_site: str | None, wh: int, buyer: str) -> Certificate:
    return Certificate(certificate_id(trade_id), trade_id, slot, seller, seller_site, wh, buyer)


@dataclass(frozen=True)
class Retirement:
    cert_id: str
    participant: str
    target: str
    wh: int

    def to_json(self) -> dict[str, Any]:
        return {"cert_id": self.cert_id, "participant": self.participant, "target": self.target, "wh": self.wh}


def retirement_problem(certificate: Certificate | None, retired: bool, participant: str) -> str | None:
    """Why ``participant`` may not retire ``certificate`` now (``None`` when they may)."""
    if certificate is None:
        return "no such certificate"
    if certificate.owner != participant:
        return f"certificate {certificate.cert_id} belongs to {certificate.owner}, not {participant}"
    if retired:
        return f"certificate {certificate.cert_id} is already retired"
    return None
