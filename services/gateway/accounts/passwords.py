"""Password hashing with Argon2id (``argon2-cffi``): the hash carries its own salt and cost parameters.

The default cost is argon2-cffi's (RFC 9106's low-memory profile: 64 MiB, 3 passes). Tests pass a cheaper
:class:`PasswordHasher`; a stored hash made with other parameters verifies and is rehashed on the next
successful sign-in. Unknown usernames are checked against a dummy hash, so a sign-in takes as long whether
or not the name exists.
"""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError


class Passwords:
    def __init__(self, hasher: PasswordHasher | None = None) -> None:
        self.hasher = hasher or PasswordHasher()
        self._dummy = self.hasher.hash("not a password anyone has")

    def hash(self, password: str) -> str:
        return self.hasher.hash(password)

    def verify(self, stored: str | None, password: str) -> bool:
        """Whether ``password`` matches ``stored`` (``None``: no such account, checked against the dummy)."""
        try:
            return self.hasher.verify(stored or self._dummy, password) and stored is not None
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, stored: str) -> bool:
        return self.hasher.check_needs_rehash(stored)


def cheap_hasher() -> PasswordHasher:
    """Argon2id at a small cost, for tests only (a real deployment keeps the default)."""
    return PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
