"""Renewable-origin certificates: kWh of renewable origin become a certificate the buyer owns.

A certificate names where and when the energy came from (seller, site/device, slot) and how many Wh.
Its owner may retire it against their renewable target exactly once; after that it counts towards that
target and can never be retired again. Issue and retirement are both ledger entries, so the history of
every certificate is on the hash chain.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
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


class Refusal(StrEnum):
    """Why a retirement is refused; the gateway maps these to HTTP (missing/not yours -> 404, twice -> 409)."""

    MISSING = "missing"
    NOT_OWNER = "not_owner"
    ALREADY_RETIRED = "already_retired"


@dataclass(frozen=True)
class RetirementDecision:
    """The outcome of asking to retire a certificate: a new retirement, a repeat of one, or a refusal."""

    retirement: Retirement | None = None  # to append (accepted, new)
    repeat: bool = False  # already retired exactly so: answer with the existing entry, append nothing
    refusal: Refusal | None = None
    reason: str | None = None

    @property
    def accepted(self) -> bool:
        return self.refusal is None


def retirement_problem(certificate: Certificate | None, retired: bool, participant: str) -> str | None:
    """Why ``participant`` may not retire ``certificate`` now (``None`` when they may)."""
    if certificate is None:
        return "no such certificate"
    if certificate.owner != participant:
        return f"certificate {certificate.cert_id} belongs to {certificate.owner}, not {participant}"
    if retired:
        return f"certificate {certificate.cert_id} is already retired"
    return None


def decide_retirement(cert_id: str, certificate: Certificate | None, retired_target: str | None,
                      participant: str, target: str) -> RetirementDecision:
    """The retirement rule: only the owner, only once; asking again for the same target repeats the answer.

    ``retired_target`` is the target the certificate was already retired against (``None``: not retired).
    A certificate that belongs to someone else is refused exactly like a missing one, so that a refusal
    does not reveal whether another participant's certificate exists.
    """
    if certificate is None or certificate.owner != participant:
        return RetirementDecision(refusal=Refusal.MISSING if certificate is None else Refusal.NOT_OWNER,
                                  reason=f"no certificate {cert_id} held by {participant}")
    if retired_target is not None:
        if retired_target == target:
            return RetirementDecision(repeat=True)
        return RetirementDecision(refusal=Refusal.ALREADY_RETIRED,
                                  reason=f"certificate {cert_id} is already retired against {retired_target!r}")
    return RetirementDecision(retirement=Retirement(certificate.cert_id, participant, target, certificate.wh))
