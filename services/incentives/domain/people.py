"""What the campaign remembers about each app user within a day: opt-outs, offers received, declines."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class UserHistory:
    opted_out: set[str] = field(default_factory=set)
    offers_today: dict[str, int] = field(default_factory=dict)
    declines_in_row: dict[str, int] = field(default_factory=dict)

    def opt_out(self, user: str) -> None:
        self.opted_out.add(user)

    def opt_in(self, user: str) -> None:
        self.opted_out.discard(user)

    def offered(self, user: str) -> None:
        self.offers_today[user] = self.offers_today.get(user, 0) + 1

    def answered(self, user: str, accepted: bool) -> None:
        """An accept resets the run of declines; a decline or an expiry lengthens it."""
        self.declines_in_row[user] = 0 if accepted else self.declines_in_row.get(user, 0) + 1

    def new_day(self) -> None:
        """Caps count per day; declines in a row carry over (they say something about the person)."""
        self.offers_today.clear()

    def arrays(self, users: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(opted out, offers today, declines in a row) per user, for the round's vectorised rules."""
        ids = users.tolist()
        return (np.array([u in self.opted_out for u in ids], dtype=bool),
                np.array([self.offers_today.get(u, 0) for u in ids], dtype=np.int64),
                np.array([self.declines_in_row.get(u, 0) for u in ids], dtype=np.int64))
