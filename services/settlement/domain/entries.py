"""Drafts and readers of the built-in entry kinds, gathered for callers that predate ``domain/kinds/``."""

from __future__ import annotations

from services.settlement.domain.chain import Entry
from services.settlement.domain.kinds.anchor import anchor_draft, anchor_ref
from services.settlement.domain.kinds.base import EntryKind
from services.settlement.domain.kinds.registry import KINDS
from services.settlement.domain.kinds.retirement import retirement_draft
from services.settlement.domain.kinds.trade import certificate_of, fact_of, trade_draft
from services.settlement.domain.postings import Posting

__all__ = ["anchor_draft", "anchor_ref", "certificate_of", "fact_of", "postings_of", "retirement_draft",
           "trade_draft"]


def postings_of(entry: Entry) -> tuple[Posting, ...]:
    """The legs an entry carries, as its kind reads them (the ``body["postings"]`` convention if unregistered)."""
    return KINDS.get(entry.kind, _CONVENTION).postings(entry.body)


_CONVENTION = EntryKind()
