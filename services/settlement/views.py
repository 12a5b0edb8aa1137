"""Who may see what: the gateway's views over the ledger's read model (``ports.LedgerReadModel``).

A participant's view answers only about that participant (their trades, statement, balance, certificates,
proofs); the operator's view answers only in aggregates and audits. Neither can write: only the settlement
service appends to the ledger, and ``open_reader`` opens the database read-only (at the database, give the
gateway a role with ``SELECT`` on the ``ledger_*`` tables and nothing more). Views return the wire shapes
(``to_json()`` of the typed rows) so routes stay one line.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from services.settlement.domain.certificates import Certificate, decide_retirement
from services.settlement.domain.kinds.registry import KINDS
from services.settlement.domain.kinds.retirement import NAME as RETIREMENT
from services.settlement.domain.kinds.trade import NAME as TRADE
from services.settlement.domain.merkle import verify_inclusion
from services.settlement.domain.money import kwh_to_wh
from services.settlement.domain.reconcile import ReconcileReport
from services.settlement.domain.signing import public_bytes
from services.settlement.domain.statement import Statement
from services.settlement.domain.targets import settle_target
from services.settlement.domain.verify import VerifyReport
from services.settlement.ports import (
    Balance,
    CertificateRow,
    InclusionProof,
    LedgerReadModel,
    NotFound,
    NotYetAnchored,
)
from services.settlement.read_model import open_read_model


@dataclass(frozen=True)
class ParticipantView:
    _ledger: LedgerReadModel
    participant: str

    def trades(self) -> list[dict[str, Any]]:
        return [row.to_json() for row in self._ledger.trades_for(self.participant)]

    def statement(self, start: datetime | None = None, end: datetime | None = None) -> Statement:
        return self._ledger.statement(self.participant, start, end)

    def balance(self) -> Balance:
        return self._ledger.balance(self.participant)

    def certificates(self) -> list[dict[str, Any]]:
        return [row.to_json() for row in self._ledger.certificates(self.participant)]

    def renewable_progress(self) -> dict[str, str]:
        return {target: str(kwh) for target, kwh in self._ledger.renewable_progress(self.participant).items()}

    def renewable_target(self, share: Decimal, target: str | None = None) -> dict[str, Any]:
        """Progress towards a renewable ``share`` of what the participant bought: on-site (A), community (B),
        certificates still needed (C); with ``target``, net of the certificates already retired for it."""
        bought = [row for row in self._ledger.trades_for(self.participant) if row.role == "buyer"]
        consumption = sum((row.kwh for row in bought), Decimal(0))
        plan = settle_target(self.participant, bought, consumption, share)
        retired = self._ledger.renewable_progress(self.participant).get(target, Decimal(0)) if target else None
        still = max(Decimal(0), plan.certificates_kwh - (retired or 0))
        return {"share": share, "consumption_kwh": plan.consumption_kwh, "target_kwh": plan.target_kwh,
                "from_on_site_kwh": plan.from_a_kwh, "from_community_kwh": plan.from_b_kwh,
                "certificates_needed_kwh": plan.certificates_kwh, "certificates_retired_kwh": retired,
                "still_to_cover_kwh": still, "met": still == 0}

    def certificate(self, cert_id: str) -> CertificateRow:
        """The caller's certificate; ``NotFound`` for a missing one and for somebody else's alike."""
        row = self._ledger.certificate(cert_id)
        if row is None or row.owner != self.participant:
            raise NotFound(f"no certificate {cert_id} held by {self.participant}")
        return row

    def retirement_refusal(self, cert_id: str, target: str) -> str | None:
        """Why the caller may not retire ``cert_id`` against ``target`` now (``None``: they may ask);
        ``NotFound`` for a certificate that is missing or not theirs. The rule is the domain's."""
        row = self.certificate(cert_id)
        cert = Certificate(row.cert_id, row.trade_id, row.slot.isoformat(), row.source_participant,
                           row.source_site, kwh_to_wh(row.kwh), row.owner)
        decision = decide_retirement(cert_id, cert, row.retired_target if row.retired else None,
                                     self.participant, target)
        if decision.retirement is not None:
            return None
        return decision.reason or f"certificate {cert_id} is already retired against {row.retired_target!r}"

    def retirement_entry_hash(self, cert_id: str) -> str | None:
        entry = self._ledger.entry(RETIREMENT, cert_id)
        return None if entry is None else entry.hash

    def entry_proof(self, kind: str, ref: str) -> dict[str, Any]:
        """The Merkle proof of an entry of any kind that concerns the caller (its kind's ``parties``) against
        its slot's anchor; ``NotFound`` for an entry that is missing or not theirs, ``NotYetAnchored`` before
        the anchor covers it."""
        entry = self._ledger.entry(kind, ref) if kind in KINDS else None
        if entry is None or self.participant not in KINDS[kind].parties(entry.body):
            raise NotFound(f"no {kind} {ref} for {self.participant}")
        return checked(self._ledger.inclusion_proof(kind, ref))

    def inclusion_proof(self, trade_id: str) -> dict[str, Any]:
        """The Merkle proof of the caller's trade against its slot's anchor (``NotFound`` if not theirs)."""
        return self.entry_proof(TRADE, trade_id)

    def certificate_proof(self, cert_id: str) -> dict[str, Any]:
        """The certificate's issue (its trade entry) and, once retired, the retirement entry naming the target,
        each with its Merkle proof; a part not yet under an anchor says so instead of a proof."""
        row = self.certificate(cert_id)
        out: dict[str, Any] = {"certificate": row.to_json(), "issued": _proof_or_pending(
            self._ledger, TRADE, row.trade_id), "retired": None}
        if row.retired:
            out["retired"] = {"target": row.retired_target,
                              **_proof_or_pending(self._ledger, RETIREMENT, cert_id)}
        return out


def checked(proof: InclusionProof) -> dict[str, Any]:
    """The proof as JSON, with the platform's own check of it: the entry's hash recomputed from its fields
    and the Merkle path leading to the anchor's root (the app shows "verified" and that root)."""
    ok = proof.entry.recomputed_hash() == proof.entry.hash and verify_inclusion(
        proof.entry.hash, proof.index, proof.size, proof.proof, proof.anchor.merkle_root)
    return {**proof.to_json(), "verified": ok, "verified_against": proof.anchor.merkle_root}


def _proof_or_pending(ledger: LedgerReadModel, kind: str, ref: str) -> dict[str, Any]:
    try:
        return {"status": "anchored", "proof": checked(ledger.inclusion_proof(kind, ref))}
    except NotYetAnchored as exc:
        return {"status": "not yet anchored", "reason": str(exc)}


@dataclass(frozen=True)
class OperatorView:
    _ledger: LedgerReadModel

    def slot_totals(self) -> list[dict[str, Any]]:
        return [row.to_json() for row in self._ledger.slot_totals()]

    def trade_count(self) -> int:
        return self._ledger.trade_count()

    def anchors(self) -> list[dict[str, Any]]:
        return [row.to_json() for row in self._ledger.anchors()]

    def verify(self) -> VerifyReport:
        return self._ledger.verify()

    def reconcile(self) -> ReconcileReport:
        return self._ledger.reconcile()

    def campaign_accounts(self) -> list[dict[str, Any]]:
        """Each incentive campaign's account: funded, rewards paid (per offer), balance."""
        return [a.to_json() for a in self._ledger.campaign_accounts()]


class LedgerReader:
    """The gateway's handle on the ledger: views, never writes."""

    def __init__(self, ledger: LedgerReadModel) -> None:
        self._ledger = ledger

    def participant(self, participant: str) -> ParticipantView:
        return ParticipantView(self._ledger, participant)

    def operator(self) -> OperatorView:
        return OperatorView(self._ledger)

    def ping(self) -> None:
        self._ledger.ping()

    def public_keys(self) -> list[dict[str, str]]:
        """Every key that signed entries, as published (key id, raw public key in hex)."""
        return [{"key_id": kid, "public_key": public_bytes(key).hex()}
                for kid, key in sorted(self._ledger.public_keys().items())]

    def close(self) -> None:
        self._ledger.close()


def open_reader(url: str, *, check: bool = True) -> LedgerReader:
    """A read-only reader; ``check=False`` opens without asking the database (the gateway then reports
    readiness from ``ping``)."""
    return LedgerReader(open_read_model(url, check=check))
