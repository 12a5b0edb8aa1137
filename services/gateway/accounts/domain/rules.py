"""What a username and a password must be, said as rules a person can act on.

Each broken rule is a :class:`RuleBroken` naming the field, so the gateway answers 422 with
``body.password: ...`` rather than a bare "invalid".
"""

from __future__ import annotations

import re
import unicodedata

from shared.accounts import is_system_account
from shared.errors import DomainError

USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{2,63}$")
PASSWORD_MIN, PASSWORD_MAX = 10, 128
PASSWORD_MIN_DISTINCT = 5
# Passwords that lists of leaked passwords start with; anything on it is refused whatever its length.
COMMON_PASSWORDS = frozenset({
    "1234567890", "12345678910", "0123456789", "1111111111", "qwertyuiop", "password12", "password123",
    "password1234", "iloveyou12", "abcdefghij", "abcd123456", "qwerty1234", "1q2w3e4r5t", "letmein123",
    "welcome123", "passw0rd12", "administrator", "changeme12", "ebina12345", "citymatch1",
})


class RuleBroken(DomainError):
    """A field of an account request breaks a rule (HTTP 422 naming the field)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def normal_username(raw: str) -> str:
    """The username as stored and compared: NFKC, trimmed, lower case; refused if it breaks a rule."""
    name = unicodedata.normalize("NFKC", raw).strip().lower()
    if not USERNAME.fullmatch(name):
        raise RuleBroken("username", "must be 3-64 characters of a-z, 0-9, '.', '-' or '_', starting with a "
                                     "letter or digit")
    if is_system_account(name):
        raise RuleBroken("username", f"{name!r} is reserved for the platform")
    return name


def check_password(password: str, username: str) -> str:
    """``password`` if it is long, varied, not a common one and not the username; else the rule it breaks."""
    if len(password) < PASSWORD_MIN:
        raise RuleBroken("password", f"must be at least {PASSWORD_MIN} characters (got {len(password)})")
    if len(password) > PASSWORD_MAX:
        raise RuleBroken("password", f"must be at most {PASSWORD_MAX} characters")
    if len(set(password)) < PASSWORD_MIN_DISTINCT:
        raise RuleBroken("password", f"must use at least {PASSWORD_MIN_DISTINCT} different characters")
    folded = password.lower()
    if folded in COMMON_PASSWORDS:
        raise RuleBroken("password", "is one of the most common passwords; choose another")
    if username and username in folded:
        raise RuleBroken("password", "must not contain the username")
    return password
