"""Account names the platform keeps for itself: the grid, the operator, the platform and its fee accounts.

They are parties of the ledger, not people: no token names one for an app user or a device, and the market
refuses their orders, so no one trades or reads in their name and no trade can have one on both sides.
"""

from __future__ import annotations

SYSTEM_ACCOUNTS = frozenset({"grid", "operator", "platform", "fees", "market", "settlement", "system"})


def is_system_account(name: str) -> bool:
    return name.strip().lower() in SYSTEM_ACCOUNTS
