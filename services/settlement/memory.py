"""The in-memory fake of the ``Ledger`` port, for unit tests of the service, the gateway and new entry kinds.

It keeps entries in a list and folds them into the same query rows the SQL adapter writes (each kind's
``rows``), with the same rules from the domain (``decide_retirement``, ``verify``, ``reconcile``). It is a
single-process fake: no sequencer lock, no database, one chain per instance.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from services.settlement.domain.chain import ChainHead, Draft, Entry, append
from services.settlement.domain.kinds.anchor import NAME as ANCHOR
from services.settlement.domain.kinds.anchor import anchor_draft
from services.settlement.domain.kinds.registry import KINDS
from services.settlement.domain.kinds.retirement import NAME as RETIREMENT
from services.settlement.domain.kinds.reward import CampaignAccount, campaign_accounts
from services.settlement.domain.kinds.trade import NAME as TRADE
from services.settlement.domain.merkle import merkle_root
from services.settlement.domain.money import FeeSchedule, sen_to_yen, wh_to_kwh
from services.settlement.domain.postings import JPY, KWH, Posting, participant_account
from services.settlement.domain.projection import Tables, apply_rows
from services.settlement.domain.reconcile import ReconcileReport, reconcile
from services.settlement.domain.signing import Signer
from services.settlement.domain.statement import Statement, build_statement
from services.settlement.domain.verify import VerifyReport, verify
from services.settlement.ports import (
    AnchorRow,
    Balance,
    CertificateRow,
    InclusionProof,
    NotFound,
    RetirementOutcome,
    SlotTotal,
    TradeRow,
)
from services.settlement.read_model import proof_under_anchor
from services.settlement.writes import TradeWrites, fresh_drafts, in_request_order, retire
from shared.contracts.ledger import LedgerAnchor

_KEYS = {"ledger_trades": "trade_id", "ledger_certificates": "cert_id", "ledger_anchors": "seq"}


def _dt(slot: str | None) -> datetime | None:
    return datetime.fromisoformat(slot) if slot else None


class InMemoryLedger(TradeWrites):
    """``ports.Ledger`` in memory: same answers as the SQL adapter for the same calls."""

    def __init__(self, signer: Signer | None = None, *, chain: str = "main", fees: FeeSchedule | None = None,
                 clock: Any = None) -> None:
        self.signer = signer or Signer.generate()
        self.chain = chain
        self.fees = fees or FeeSchedule()
        self._clock = clock or (lambda: datetime.now(UTC))
        self._head = ChainHead(chain)
        self._entries: list[Entry] = []
        self._keys: set[tuple[str, str]] = set()
        self._tables: Tables = {name: {} for name in _KEYS}
        self._lock = threading.Lock()
        self.closed = False

    # ------------------------------------------------------------------ writes

    def _now(self) -> datetime:
        return self._clock()

    def _append(self, drafts: Sequence[Draft]) -> list[Entry]:
        entries, self._head = append(self._head, drafts, self.signer)
        for e in entries:
            self._entries.append(e)
            self._keys.add((e.kind, e.ref))
            apply_rows(self._tables, KINDS[e.kind].rows(e), _KEYS)
        return entries

    def record(self, drafts: Sequence[Draft]) -> list[Entry | None]:
        for draft in drafts:
            KINDS[draft.kind]
        with self._lock:
            fresh = fresh_drafts(drafts, set(self._keys))
            entries = self._append(fresh) if fresh else []
        return in_request_order(drafts, entries)

    def retire_certificate(self, cert_id: str, participant: str, target: str) -> RetirementOutcome:
        with self._lock:
            row = self._tables["ledger_certificates"].get(cert_id)
            return retire(cert_id, participant, target, self._now(),
                          issued=None if row is None else self.entry(TRADE, row["trade_id"]),
                          retired_target=None if row is None or row["retired_seq"] is None else row["retired_target"],
                          existing=lambda: self.entry(RETIREMENT, cert_id),
                          append=lambda draft: self._append([draft])[0])

    def anchor_pending(self) -> list[LedgerAnchor]:
        with self._lock:
            since = max((e.seq for e in self._entries if e.kind == ANCHOR), default=0)
            anchored = set(KINDS.anchored())
            pending = sorted({e.slot for e in self._entries if e.seq > since and e.kind in anchored and e.slot})
            now = self._clock()
            drafts = [anchor_draft(slot, merkle_root(hashes), len(hashes), now)
                      for slot in pending for hashes in [self._slot_hashes(slot)]]
            entries = self._append(drafts) if drafts else []
        return [LedgerAnchor(slot=datetime.fromisoformat(e.body["slot"]), merkle_root=e.body["merkle_root"],
                             entries=e.body["entries"]) for e in entries]

    def _slot_hashes(self, slot: str) -> list[str]:
        anchored = set(KINDS.anchored())
        return [e.hash for e in self._entries if e.kind in anchored and e.slot == slot]

    # ------------------------------------------------------------------ reads

    def ping(self) -> None:
        return None

    def close(self) -> None:
        self.closed = True

    def trade_count(self) -> int:
        return len(self._tables["ledger_trades"])

    def trades_for(self, participant: str) -> list[TradeRow]:
        rows = [r for r in self._tables["ledger_trades"].values() if participant in (r["seller"], r["buyer"])]
        rows.sort(key=lambda r: (r["slot"], r["chain"], r["seq"]))
        return [TradeRow(r["trade_id"], r["slot"], r["seller"], r["buyer"], wh_to_kwh(r["wh"]),
                         sen_to_yen(r["price_sen"]), sen_to_yen(r["energy_sen"]), r["tier"], bool(r["renewable"]),
                         "buyer" if r["buyer"] == participant else "seller") for r in rows]

    def balance(self, participant: str) -> Balance:
        account = participant_account(participant)
        legs = [p for _, _, p in self.stored_postings() if p.account == account]
        return Balance(participant, sen_to_yen(sum(p.amount for p in legs if p.commodity == JPY)),
                       wh_to_kwh(sum(p.amount for p in legs if p.commodity == KWH)))

    def certificates(self, participant: str) -> list[CertificateRow]:
        rows = [r for r in self._tables["ledger_certificates"].values() if r["owner"] == participant]
        return [_certificate(r) for r in sorted(rows, key=lambda r: (r["slot"], r["cert_id"]))]

    def certificate(self, cert_id: str) -> CertificateRow | None:
        row = self._tables["ledger_certificates"].get(cert_id)
        return None if row is None else _certificate(row)

    def renewable_progress(self, participant: str) -> dict[str, Decimal]:
        out: dict[str, int] = {}
        for c in self._tables["ledger_certificates"].values():
            if c["owner"] == participant and c["retired_seq"] is not None:
                out[c["retired_target"]] = out.get(c["retired_target"], 0) + c["wh"]
        return {k: wh_to_kwh(v) for k, v in sorted(out.items())}

    def statement(self, participant: str, start: datetime | None = None, end: datetime | None = None) -> Statement:
        def in_period(e: Entry) -> bool:
            slot = _dt(e.slot)
            return slot is not None and (start is None or slot >= start) and (end is None or slot < end)

        account = participant_account(participant)
        trades = [e for e in self._entries if e.kind == TRADE and in_period(e)]
        certs = self._tables["ledger_certificates"]
        retirements = [e for e in self._entries if e.kind == RETIREMENT and e.ref in certs
                       and certs[e.ref]["owner"] == participant]
        others = [e for e in self._entries if e.kind not in (TRADE, RETIREMENT, ANCHOR) and in_period(e)
                  and any(p.account == account for p in KINDS[e.kind].postings(e.body))]
        trades.sort(key=lambda e: (e.slot or "", e.chain, e.seq))
        return build_statement(participant, start, end, trades, retirements, others)

    def slot_totals(self) -> list[SlotTotal]:
        per: dict[datetime, list[int]] = {}
        for r in self._tables["ledger_trades"].values():
            agg = per.setdefault(r["slot"], [0, 0])
            agg[0] += 1
            agg[1] += r["wh"]
        money: dict[tuple[datetime | None, str], int] = {}
        for e in self._entries:
            for p in KINDS[e.kind].postings(e.body):
                if p.commodity == JPY and p.amount > 0:
                    money[(_dt(e.slot), p.kind)] = money.get((_dt(e.slot), p.kind), 0) + p.amount
        return [SlotTotal(slot, n, wh_to_kwh(wh), *(sen_to_yen(money.get((slot, k), 0))
                                                    for k in ("energy", "wheeling", "platform_fee")))
                for slot, (n, wh) in sorted(per.items())]

    def anchors(self) -> list[AnchorRow]:
        rows = sorted(self._tables["ledger_anchors"].values(), key=lambda r: (r["slot"], r["entries"]))
        return [AnchorRow(r["chain"], r["slot"], r["entries"], r["merkle_root"], r["seq"]) for r in rows]

    def entries(self, chain: str | None = None) -> Iterator[Entry]:
        return iter([e for e in self._entries if chain is None or e.chain == chain])

    def entry(self, kind: str, ref: str) -> Entry | None:
        return next((e for e in self._entries if e.kind == kind and e.ref == ref), None)

    def campaign_accounts(self) -> list[CampaignAccount]:
        return campaign_accounts(self._entries)

    def stored_postings(self) -> Iterator[tuple[str, int, Posting]]:
        for e in self._entries:
            for p in KINDS[e.kind].postings(e.body):
                yield e.chain, e.seq, p

    def public_keys(self) -> dict[str, Any]:
        return {self.signer.key_id: self.signer.public_key}

    def verify(self, public_keys: Any = None, *, every_signature: bool = True) -> VerifyReport:
        keys = public_keys if public_keys is not None else self.public_keys()
        return verify(self.entries(), keys, every_signature=every_signature)

    def reconcile(self) -> ReconcileReport:
        return reconcile(self._entries, list(self.stored_postings()))

    def inclusion_proof(self, kind: str, ref: str) -> InclusionProof:
        mine = self.entry(kind, ref)
        if mine is None or mine.slot is None or not KINDS[kind].anchored:
            raise NotFound(f"no anchored {kind} entry {ref}")
        anchors = [a for a in self.anchors() if a.chain == mine.chain and a.slot == _dt(mine.slot)]
        latest = max(anchors, key=lambda a: a.entries, default=None)
        return proof_under_anchor(mine, self._slot_hashes(mine.slot), latest)


def _certificate(r: dict[str, Any]) -> CertificateRow:
    return CertificateRow(r["cert_id"], r["trade_id"], r["slot"], r["source_participant"], r["source_site"],
                          wh_to_kwh(r["wh"]), r["owner"], r["issued_seq"], r["retired_seq"], r["retired_target"])
