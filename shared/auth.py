"""Bearer tokens that name a participant, signed with the platform's secret (HMAC-SHA256).

The gateway takes the participant id from the verified token, never from a request body, so one app user
cannot place orders or read trades in another's name.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

from shared.errors import DomainError


class AuthError(DomainError):
    """A token is missing, malformed or not signed by this platform."""


class ForbiddenError(AuthError):
    """A valid token whose holder may not use this route (an app user on an operator route)."""


def _sign(secret: str, participant: str) -> str:
    mac = hmac.new(secret.encode(), participant.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac[:18]).decode()


def issue_token(secret: str, participant: str) -> str:
    if not participant or "." in participant:
        raise ValueError("participant id must be non-empty and contain no '.'")
    return f"{participant}.{_sign(secret, participant)}"


def participant_from_token(secret: str, token: str) -> str:
    participant, sep, signature = token.rpartition(".")
    if not sep or not participant:
        raise AuthError("malformed token: expected '<participant>.<signature>'")
    if not hmac.compare_digest(signature, _sign(secret, participant)):
        raise AuthError("token signature does not verify")
    return participant
