"""Bearer tokens that name a subject, a role and an expiry, signed with the platform's secret (HMAC-SHA256).

The gateway takes the participant id from the verified token, never from a request body, so one app user
cannot place orders or read trades in another's name. A token is ``cm1.<claims>.<signature>``: the claims
are base64url JSON ``{"sub", "role", "iat", "exp"}``; the signature covers ``cm1.<claims>``. Accounts and
sign-in issue the same tokens, so the routes' checks (role, expiry) do not change when they arrive.

Roles: ``app-user`` (a person: reads and trades as themself), ``device`` (an agent that places and cancels
orders for its owner), ``operator`` (runs the platform), ``planner`` (reads the dashboard's plans and reports;
no participant or operator route).

System accounts (the grid, the operator, the platform and its fee accounts) are parties of the ledger, not
people: no app-user or device token can name one, so nobody can trade or read in their name.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal, get_args

from shared.accounts import is_system_account
from shared.errors import DomainError

Role = Literal["app-user", "device", "operator", "planner"]
ROLES: tuple[str, ...] = get_args(Role)
PARTICIPANT_ROLES: tuple[Role, ...] = ("app-user", "device")
PARTICIPANT_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
DEFAULT_TTL = timedelta(hours=24)
MAX_TTL = timedelta(days=90)
_PREFIX = "cm1"


class AuthError(DomainError):
    """A token is missing, malformed, expired or not signed by this platform (HTTP 401)."""


class ForbiddenError(AuthError):
    """A valid token whose role may not use this route (HTTP 403)."""


@dataclass(frozen=True)
class Claims:
    subject: str
    role: Role
    issued_at: datetime
    expires_at: datetime


def check_subject(subject: str, role: str) -> str:
    """Refuse ids that cannot be participants (shape, system accounts); returns the id."""
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}, not {role!r}")
    if not PARTICIPANT_ID.fullmatch(subject):
        raise ValueError(f"id {subject!r} must be 1-64 characters of a-z, 0-9, '-' or '_', starting with a "
                         "letter or digit")
    if role in PARTICIPANT_ROLES and is_system_account(subject):
        raise ValueError(f"{subject!r} is a system account; it cannot hold an {role} token")
    return subject


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _sign(secret: str, signed_part: str) -> str:
    return _b64(hmac.new(secret.encode(), signed_part.encode(), hashlib.sha256).digest())


def issue_token(secret: str, subject: str, *, role: Role = "app-user", ttl: timedelta = DEFAULT_TTL,
                now: datetime | None = None) -> str:
    """A signed token for ``subject`` in ``role`` that expires ``ttl`` from ``now``."""
    check_subject(subject, role)
    if not timedelta(0) < ttl <= MAX_TTL:
        raise ValueError(f"ttl must be positive and at most {MAX_TTL.days} days")
    issued = int((now or datetime.now(UTC)).timestamp())
    claims = {"sub": subject, "role": role, "iat": issued, "exp": issued + int(ttl.total_seconds())}
    signed_part = f"{_PREFIX}.{_b64(json.dumps(claims, separators=(',', ':'), sort_keys=True).encode())}"
    return f"{signed_part}.{_sign(secret, signed_part)}"


def verify_token(secret: str, token: str, now: datetime | None = None) -> Claims:
    """The token's claims, or :class:`AuthError` saying why it is refused."""
    parts = token.split(".")
    if len(parts) != 3 or parts[0] != _PREFIX:
        raise AuthError("malformed token: expected 'cm1.<claims>.<signature>' (issue one with citymatch token)")
    signed_part = f"{parts[0]}.{parts[1]}"
    if not hmac.compare_digest(parts[2], _sign(secret, signed_part)):
        raise AuthError("token signature does not verify")
    try:
        raw = json.loads(_unb64(parts[1]))
        subject, role, issued, expires = raw["sub"], raw["role"], int(raw["iat"]), int(raw["exp"])
        check_subject(subject, role)
    except (ValueError, KeyError, TypeError) as exc:
        raise AuthError(f"token claims are not valid: {exc}") from None
    moment = now or datetime.now(UTC)
    expires_at = datetime.fromtimestamp(expires, UTC)
    if moment >= expires_at:
        raise AuthError(f"token expired at {expires_at.isoformat().replace('+00:00', 'Z')}; ask for a new one")
    return Claims(subject, role, datetime.fromtimestamp(issued, UTC), expires_at)


def require_role(claims: Claims, allowed: tuple[str, ...], what: str) -> Claims:
    """``claims`` if its role may use ``what``; otherwise :class:`ForbiddenError` naming both roles."""
    if claims.role not in allowed:
        raise ForbiddenError(f"{what} needs a token with role {' or '.join(allowed)}; "
                             f"this token ({claims.subject}) has role {claims.role}")
    return claims


def participant_from_token(secret: str, token: str, now: datetime | None = None) -> str:
    """The participant an app-user or device token speaks for."""
    return require_role(verify_token(secret, token, now), PARTICIPANT_ROLES, "this route").subject
