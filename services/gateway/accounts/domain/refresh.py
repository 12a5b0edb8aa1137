"""Refresh tokens: opaque, random, stored only as their hash, used once (each refresh rotates them).

A token is ``cmr1.<43 url-safe characters>`` (256 random bits). Because it is random and long, a plain
SHA-256 is enough to store it (no salt or slow hash needed: there is nothing to guess), and a database
leak does not hand out sessions. Tokens of one sign-in form a family: presenting a token that was already
rotated means it was copied, so the whole family is revoked.
"""

from __future__ import annotations

import hashlib
import secrets

PREFIX = "cmr1."


def new_refresh_token() -> str:
    """A fresh token (cryptographic randomness: a session secret, not a simulation choice, so no seed)."""
    return PREFIX + secrets.token_urlsafe(32)


def refresh_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def looks_like_refresh_token(token: str) -> bool:
    return token.startswith(PREFIX) and 40 <= len(token) <= 64
