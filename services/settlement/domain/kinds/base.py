"""What every kind of ledger entry provides, and the state a verifier carries from entry to entry.

An entry kind is a small object with four duties, so that a new kind of payment is one module:

* **draft** (a function of the kind's own facts) — what goes into the entry's body;
* ``check(entry, body, state)`` — the rules an entry of this kind must satisfy given the entries before it
  (run by ``verify`` on every entry; ``None`` means fine, a string names the problem);
* ``postings(body)`` — the balanced money/energy legs the entry carries (empty for non-monetary kinds);
* ``parties(body)`` — the participants the entry concerns (who may read it and its inclusion proof);
* ``apply(entry, body, state)`` — remember what later entries of any kind need to be checked against;
* ``rows(entry)`` — the query-table rows the entry implies (the SQL adapter and the in-memory fake write them).

The chain itself (hashes, links, signatures, duplicate ``(kind, ref)``) and the balance of every entry's
postings are checked generically, for every kind, before ``check`` runs.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from services.settlement.domain.chain import Entry
from services.settlement.domain.postings import Posting

KIND_NAME_MAX = 16  # ledger_entries.kind is VARCHAR(16)
PARTICIPANT = "participant:"  # account prefix of market participants (postings.participant_account)


@dataclass(frozen=True)
class ProjectedRow:
    """A row a ledger entry implies in a query table; with ``key`` it updates the row(s) matching it."""

    table: str
    values: Mapping[str, Any]
    key: tuple[str, ...] = ()


@dataclass
class ChainState:
    """What the verifier has seen so far, across chains: the memory every kind's ``check`` reads."""

    seen: set[tuple[str, str]] = field(default_factory=set)  # (kind, ref) of every good entry
    leaves: dict[tuple[str, str], list[str]] = field(default_factory=dict)  # (chain, slot) -> anchored hashes
    certificates: dict[str, Any] = field(default_factory=dict)  # cert_id -> Certificate
    retired: dict[str, str] = field(default_factory=dict)  # cert_id -> target it was retired against
    extra: dict[str, dict[str, Any]] = field(default_factory=dict)  # kind name -> that kind's own memory

    def memory(self, kind: str) -> dict[str, Any]:
        """A kind's private scratch space (for kinds that need more than the fields above)."""
        return self.extra.setdefault(kind, {})


class EntryKind:
    """Base class of an entry kind; subclasses set ``name`` and override what they need."""

    name: ClassVar[str] = ""
    #: Entries of this kind (with a slot) are leaves of their slot's Merkle tree, so the slot's published
    #: anchor covers them and a participant can prove them to outsiders. Only anchors themselves are not.
    anchored: ClassVar[bool] = True
    #: Money/energy postings this kind may carry, by posting kind (documentation and a check on write).
    posting_kinds: ClassVar[tuple[str, ...]] = ()

    def check(self, entry: Entry, body: dict[str, Any], state: ChainState) -> str | None:
        """Why this entry breaks the kind's rules, given the entries before it (``None``: it does not)."""
        return None

    def postings(self, body: Mapping[str, Any]) -> tuple[Posting, ...]:
        """Legs the entry carries: ``body["postings"]``, rows ``[account, commodity, amount, kind]``.

        Keep the rows there even if a kind overrides this: ``verify`` balances those rows directly."""
        return tuple(Posting.from_json(row) for row in body.get("postings") or ())

    def parties(self, body: Mapping[str, Any]) -> frozenset[str]:
        """Participants the entry concerns (who may read it and its proof): by default every ``participant:``
        account its postings name."""
        return frozenset(p.account.removeprefix(PARTICIPANT) for p in self.postings(body)
                         if p.account.startswith(PARTICIPANT))

    def apply(self, entry: Entry, body: dict[str, Any], state: ChainState) -> None:
        """Remember what later entries need (called only for entries that checked out)."""

    def rows(self, entry: Entry) -> list[ProjectedRow]:
        """Query-table rows beyond ``ledger_entries`` and ``ledger_postings`` (which are written for every kind)."""
        return []
