"""Accounts end to end over the SQL store: sign-up, sign-in with Argon2, rotating and revoking refresh tokens."""

from __future__ import annotations

import pytest

from services.gateway.accounts.domain.refresh import refresh_digest
from services.gateway.accounts.domain.rules import RuleBroken
from services.gateway.accounts.service import BadCredentials, RefreshRefused, UsernameTaken
from shared.auth import verify_token

from .conftest import PASSWORD, SECRET


def test_sign_up_gives_a_new_participant_id_and_stores_only_a_hash(accounts):
    """An app user gets a fresh id of its own (nobody signs up into an existing participant); the store
    keeps an Argon2id hash, never the password."""
    account = accounts.sign_up("Hanako", PASSWORD)
    assert account.username == "hanako" and account.role == "app-user"
    assert account.account_id.startswith("u-") and account.subject == account.account_id
    stored = accounts.store.by_username("hanako")
    assert stored.password_hash.startswith("$argon2id$") and PASSWORD not in stored.password_hash


def test_taken_username_is_refused_whatever_its_case(accounts):
    accounts.sign_up("hanako", PASSWORD)
    with pytest.raises(UsernameTaken, match="taken"):
        accounts.sign_up("HANAKO", "another-Pass-99")


def test_sign_in_issues_a_short_lived_role_token_for_the_account(accounts, clock):
    """The access token is the platform's cm1 token: subject the account, role app-user, 15 minutes."""
    account = accounts.sign_up("hanako", PASSWORD)
    session = accounts.sign_in("hanako", PASSWORD)
    claims = verify_token(SECRET, session.access_token, now=clock.now)
    assert (claims.subject, claims.role) == (account.account_id, "app-user")
    assert (claims.expires_at - clock.now).total_seconds() == 15 * 60
    assert session.refresh_token.startswith("cmr1.")
    assert accounts.store.refresh_row(refresh_digest(session.refresh_token)) is not None


def test_wrong_password_and_unknown_user_read_the_same(accounts):
    accounts.sign_up("hanako", PASSWORD)
    with pytest.raises(BadCredentials) as wrong:
        accounts.sign_in("hanako", "not-her-password")
    with pytest.raises(BadCredentials) as unknown:
        accounts.sign_in("nobody-here", PASSWORD)
    assert str(wrong.value) == str(unknown.value) == "username or password is wrong"


def test_refresh_rotates_and_a_reused_token_revokes_the_sign_in(accounts):
    """A refresh token works once; presenting it again revokes the whole sign-in, including the new token."""
    accounts.sign_up("hanako", PASSWORD)
    first = accounts.sign_in("hanako", PASSWORD)
    second = accounts.refresh(first.refresh_token)
    assert second.refresh_token != first.refresh_token
    with pytest.raises(RefreshRefused, match="already used"):
        accounts.refresh(first.refresh_token)
    with pytest.raises(RefreshRefused, match="revoked"):
        accounts.refresh(second.refresh_token)


def test_refresh_token_expires(accounts, clock):
    accounts.sign_up("hanako", PASSWORD)
    session = accounts.sign_in("hanako", PASSWORD)
    clock.advance(days=30)
    with pytest.raises(RefreshRefused, match="expired at"):
        accounts.refresh(session.refresh_token)


def test_sign_out_revokes_the_refresh_token_and_is_idempotent(accounts):
    accounts.sign_up("hanako", PASSWORD)
    session = accounts.sign_in("hanako", PASSWORD)
    assert accounts.sign_out(session.refresh_token) is True
    assert accounts.sign_out(session.refresh_token) is False
    with pytest.raises(RefreshRefused, match="revoked"):
        accounts.refresh(session.refresh_token)
    with pytest.raises(RefreshRefused, match="not known"):
        accounts.refresh("cmr1." + "x" * 43)


def test_other_sign_ins_survive_a_sign_out(accounts):
    """Signing out on the phone does not sign the laptop out."""
    accounts.sign_up("hanako", PASSWORD)
    phone, laptop = accounts.sign_in("hanako", PASSWORD), accounts.sign_in("hanako", PASSWORD)
    accounts.sign_out(phone.refresh_token)
    assert accounts.refresh(laptop.refresh_token).account.username == "hanako"


def test_device_accounts_speak_for_their_owner(accounts, clock):
    """A device account's tokens name the participant it acts for, with role device; it must name one."""
    device = accounts.create("meter-home-01", PASSWORD, "device", participant="home-01")
    assert device.account_id.startswith("d-") and device.subject == "home-01"
    claims = verify_token(SECRET, accounts.sign_in("meter-home-01", PASSWORD).access_token, now=clock.now)
    assert (claims.subject, claims.role) == ("home-01", "device")
    with pytest.raises(RuleBroken) as err:
        accounts.create("meter-2", PASSWORD, "device")
    assert err.value.field == "participant"
    with pytest.raises(RuleBroken, match="system account"):
        accounts.create("meter-3", PASSWORD, "device", participant="grid")


def test_one_app_user_account_per_participant(accounts):
    accounts.create("home01", PASSWORD, "app-user", participant="home-01")
    with pytest.raises(UsernameTaken, match="home-01"):
        accounts.create("home01-again", PASSWORD, "app-user", participant="home-01")


def test_disabled_account_cannot_sign_in_or_refresh(accounts):
    account = accounts.sign_up("hanako", PASSWORD)
    session = accounts.sign_in("hanako", PASSWORD)
    assert accounts.disable(account.account_id)
    with pytest.raises(BadCredentials):
        accounts.sign_in("hanako", PASSWORD)
    with pytest.raises(RefreshRefused):
        accounts.refresh(session.refresh_token)
    assert accounts.disable("u-none") is False


def test_a_hash_of_older_cost_is_upgraded_on_sign_in(clock):
    """Hashes made with other Argon2 parameters verify, and the next sign-in stores one at today's cost."""
    from argon2 import PasswordHasher

    from services.gateway.accounts.passwords import Passwords, cheap_hasher
    from services.gateway.accounts.service import Accounts
    from services.gateway.accounts.store import open_store

    store = open_store("sqlite://")
    Accounts(store, SECRET, passwords=Passwords(cheap_hasher()), clock=clock).sign_up("hanako", PASSWORD)
    stronger = PasswordHasher(time_cost=2, memory_cost=2048, parallelism=1)
    Accounts(store, SECRET, passwords=Passwords(stronger), clock=clock).sign_in("hanako", PASSWORD)
    assert "m=2048,t=2" in store.by_username("hanako").password_hash
