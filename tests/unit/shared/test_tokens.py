"""Tokens carry a subject, a role and an expiry; system accounts cannot be app users or devices."""

from datetime import UTC, datetime, timedelta

import pytest

from services.cli import main as cli
from shared.auth import AuthError, ForbiddenError, issue_token, participant_from_token, require_role, verify_token

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def test_token_carries_role_and_expiry():
    """A token verifies to its subject, role and expiry time."""
    claims = verify_token("s", issue_token("s", "home-7", role="device", ttl=timedelta(hours=2), now=NOW), now=NOW)
    assert (claims.subject, claims.role, claims.expires_at) == ("home-7", "device", NOW + timedelta(hours=2))


def test_expired_token_is_refused_with_the_time_it_expired():
    """After its expiry a token is refused, and the reason says when it expired."""
    token = issue_token("s", "home-7", ttl=timedelta(minutes=5), now=NOW)
    with pytest.raises(AuthError, match=r"expired at 2026-12-01T12:05:00Z"):
        verify_token("s", token, now=NOW + timedelta(minutes=5))


def test_tampered_claims_do_not_verify():
    """Changing the role inside a token breaks its signature."""
    import base64
    import json

    prefix, claims, sig = issue_token("s", "home-7", now=NOW).split(".")
    raw = json.loads(base64.urlsafe_b64decode(claims + "=="))
    raw["role"] = "operator"
    forged = base64.urlsafe_b64encode(json.dumps(raw).encode()).decode().rstrip("=")
    with pytest.raises(AuthError, match="signature"):
        verify_token("s", f"{prefix}.{forged}.{sig}", now=NOW)


def test_wrong_role_is_forbidden_with_both_roles_named():
    """An operator route refuses an app-user token, naming the role it needs and the one it got."""
    claims = verify_token("s", issue_token("s", "home-7", now=NOW), now=NOW)
    with pytest.raises(ForbiddenError, match=r"needs a token with role operator.*has role app-user"):
        require_role(claims, ("operator",), "this route")


@pytest.mark.parametrize("name", ["grid", "operator", "platform", "fees", "GRID"])
def test_system_accounts_get_no_participant_token(name):
    """The grid, operator, platform and fee accounts cannot be issued app-user or device tokens."""
    for role in ("app-user", "device"):
        with pytest.raises(ValueError):
            issue_token("s", name, role=role)


def test_old_tokens_without_expiry_are_refused():
    """The former '<participant>.<signature>' tokens (no expiry, no role) no longer open anything."""
    with pytest.raises(AuthError, match="malformed"):
        participant_from_token("s", "home-7.AAAAAAAAAAAAAAAAAAAAAAAA")


def test_cli_refuses_system_accounts_and_bad_ids_in_one_line(capsys):
    """`citymatch token --participant grid` and `--participant a.b` fail with one line, not a traceback."""
    for name in ("grid", "a.b"):
        assert cli(["token", "--participant", name]) == 2
        err = capsys.readouterr().err.strip()
        assert err.count("\n") == 0 and err.startswith("citymatch token:"), err
        assert "Traceback" not in err


def test_cli_issues_role_and_ttl(capsys):
    """The CLI issues a device token with the asked lifetime."""
    assert cli(["token", "--participant", "home-7", "--role", "device", "--ttl", "2h"]) == 0
    token = capsys.readouterr().out.strip()
    from shared.settings import Settings

    claims = verify_token(Settings.from_env().token_secret, token)
    assert claims.role == "device"
    assert timedelta(hours=1, minutes=59) < claims.expires_at - datetime.now(UTC) <= timedelta(hours=2)
