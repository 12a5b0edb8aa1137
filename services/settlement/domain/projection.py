"""The query tables a ledger implies, folded from its entries by each kind's ``rows``; and how they differ.

Readers use tables (trades, certificates, anchors, postings) derived from the chain for speed. The same fold
gives the in-memory fake its tables and lets reconcile name a stored row edited behind the service's back.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from services.settlement.domain.chain import Entry
from services.settlement.domain.kinds.base import ProjectedRow
from services.settlement.domain.kinds.registry import KINDS, KindRegistry

Tables = dict[str, dict[Any, dict[str, Any]]]  # table -> key -> row


def apply_rows(tables: Tables, rows: Iterable[ProjectedRow], keys: Mapping[str, str]) -> None:
    """Insert or (for keyed rows) update ``rows`` in ``tables``; tables not named in ``keys`` are skipped."""
    for row in rows:
        key_column = keys.get(row.table)
        if key_column is None:
            continue
        table = tables.setdefault(row.table, {})
        key = row.values[key_column]
        if row.key:
            if key in table:
                table[key].update(row.values)
        else:
            table[key] = dict(row.values)


def project(entries: Iterable[Entry], keys: Mapping[str, str], kinds: KindRegistry = KINDS) -> Tables:
    """The tables named in ``keys`` (table -> key column) as the entries imply them."""
    tables: Tables = {name: {} for name in keys}
    for e in entries:
        apply_rows(tables, kinds[e.kind].rows(e), keys)
    return tables


def _comparable(value: Any) -> Any:
    """Compare stored and derived values alike (SQLite hands back naive datetimes and 0/1 booleans)."""
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    if isinstance(value, bool):
        return int(value)
    return value


def table_problems(entries: Sequence[Entry], stored: Mapping[str, Iterable[Mapping[str, Any]]],
                   keys: Mapping[str, str]) -> list[str]:
    """Rows of ``stored`` tables that are missing, extra, or differ from what the entries imply."""
    expected = project(entries, keys)
    problems = []
    for table, key in keys.items():
        want_rows = expected.get(table, {})
        got_rows = {r[key]: r for r in stored.get(table, ())}
        for k in sorted(set(want_rows) | set(got_rows)):
            want, got = want_rows.get(k), got_rows.get(k)
            if want is None or got is None:
                problems.append(f"{table}: {k} is {'missing' if got is None else 'not on the chain'}")
                continue
            differ = sorted(c for c in want if _comparable(got.get(c)) != _comparable(want[c]))
            if differ:
                problems.append(f"{table}: {k} differs from its entry in {', '.join(differ)}")
    return problems
