"""What the gateway and the CLI ask of accounts: sign up, sign in, refresh, sign out, create, disable.

Sign-in answers a :class:`Session`: a short-lived ``cm1`` access token (the platform's signed role token,
subject = whom the account speaks for) and an opaque refresh token. Refreshing rotates: the presented token
stops working and a new one comes back. A rotated token presented again means a copy is in other hands,
so every token of that sign-in is revoked. Sign-out revokes the refresh token; the access token still
works until it expires, which is why it lives minutes, not days.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from services.gateway.accounts.domain.preferences import Preferences, merged
from services.gateway.accounts.domain.refresh import looks_like_refresh_token, new_refresh_token, refresh_digest
from services.gateway.accounts.domain.rules import RuleBroken, check_password, normal_username
from services.gateway.accounts.passwords import Passwords
from services.gateway.accounts.store import AccountRow, Duplicate, RefreshRow, SqlAccountStore
from shared.auth import ROLES, AuthError, check_subject, issue_token
from shared.errors import DomainError

ACCESS_TTL = timedelta(minutes=15)
REFRESH_TTL = timedelta(days=30)
_ID_PREFIX = {"app-user": "u-", "device": "d-", "operator": "o-", "planner": "p-"}


class UsernameTaken(DomainError):
    """The username (or the participant an account would speak for) has an account already (HTTP 409)."""


class BadCredentials(AuthError):
    """Wrong username or password, or a disabled account: one message for all, so names cannot be probed."""


class NoAccount(DomainError):
    """A token that names no account (a token made by ``citymatch token``, not by sign-in) (HTTP 404)."""


class RefreshRefused(AuthError):
    """A refresh token that is unknown, expired, revoked or already used (HTTP 401, with which)."""


@dataclass(frozen=True)
class Account:
    account_id: str
    username: str
    role: str
    subject: str
    created_at: datetime
    disabled: bool

    @classmethod
    def of(cls, row: AccountRow) -> Account:
        return cls(row.account_id, row.username, row.role, row.subject, row.created_at, row.disabled_at is not None)


@dataclass(frozen=True)
class Session:
    access_token: str
    access_expires_at: datetime
    refresh_token: str
    refresh_expires_at: datetime
    account: Account


class Accounts:
    def __init__(self, store: SqlAccountStore, token_secret: str, *, passwords: Passwords | None = None,
                 access_ttl: timedelta = ACCESS_TTL, refresh_ttl: timedelta = REFRESH_TTL,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.store = store
        self.token_secret = token_secret
        self.passwords = passwords or Passwords()
        self.access_ttl = access_ttl
        self.refresh_ttl = refresh_ttl
        self.clock = clock

    def close(self) -> None:
        self.store.close()

    # ------------------------------------------------------------------ accounts

    def sign_up(self, username: str, password: str) -> Account:
        """A new app user; its id is new (no one can sign up into an existing participant's ledger)."""
        return self.create(username, password, "app-user")

    def create(self, username: str, password: str, role: str, participant: str | None = None) -> Account:
        """An account of any role (operators and the CLI); ``participant`` binds it to an existing ledger
        participant (a device account must name the participant it acts for)."""
        if role not in ROLES:
            raise RuleBroken("role", f"must be one of {', '.join(ROLES)}")
        name = normal_username(username)
        check_password(password, name)
        if role == "device" and not participant:
            raise RuleBroken("participant", "a device account must name the participant it acts for")
        account_id = _ID_PREFIX[role] + secrets.token_hex(6)
        subject = participant or account_id
        try:
            check_subject(subject, role)
        except ValueError as exc:
            raise RuleBroken("participant", str(exc)) from None
        if participant and role == "app-user" and self.store.subject_taken(subject, role):
            raise UsernameTaken(f"participant {subject!r} has an app-user account already")
        if self.store.by_username(name) is not None:
            raise UsernameTaken(f"username {name!r} is taken")
        row = AccountRow(account_id, name, role, subject, self.passwords.hash(password), self.clock(), None)
        try:
            self.store.insert_account(row)
        except Duplicate as exc:
            raise UsernameTaken(f"username {name!r} is taken" if exc.column == "username"
                                else "could not allocate an account id; try again") from None
        return Account.of(row)

    def get(self, account_id: str) -> Account | None:
        row = self.store.by_id(account_id)
        return Account.of(row) if row else None

    def all(self) -> list[Account]:
        return [Account.of(r) for r in self.store.all()]

    def disable(self, account_id: str) -> bool:
        return self.store.disable(account_id, self.clock())

    # ------------------------------------------------------------------ preferences

    def preferences(self, subject: str) -> Preferences:
        """The preferences of the app user ``subject`` speaks for (defaults until they set any)."""
        return self.store.preferences(self._app_user(subject)) or Preferences()

    def update_preferences(self, subject: str, changes: dict[str, object]) -> Preferences:
        account_id = self._app_user(subject)
        prefs = merged(self.store.preferences(account_id) or Preferences(), changes)
        self.store.save_preferences(account_id, prefs, self.clock())
        return prefs

    def _app_user(self, subject: str) -> str:
        """The app-user account of a participant: preferences belong to a person, so one must exist."""
        row = self.store.app_user_of(subject)
        if row is None:
            raise NoAccount(f"participant {subject} has no app-user account; preferences belong to accounts")
        return row.account_id

    # ------------------------------------------------------------------ sessions

    def sign_in(self, username: str, password: str) -> Session:
        try:
            name = normal_username(username)
        except RuleBroken:
            name = None
        row = self.store.by_username(name) if name else None
        ok = self.passwords.verify(row.password_hash if row else None, password)
        if row is None or not ok or row.disabled_at is not None:
            raise BadCredentials("username or password is wrong")
        if self.passwords.needs_rehash(row.password_hash):
            self.store.set_password_hash(row.account_id, self.passwords.hash(password))
        return self._session(row, family=secrets.token_hex(16))

    def refresh(self, token: str) -> Session:
        """A new session for a live refresh token, which stops working (rotation)."""
        now = self.clock()
        stored = self._live(token, now)
        if not self.store.mark_rotated(stored.token_hash, now):  # a concurrent refresh used it first
            self.store.revoke_family(stored.family, now)
            raise RefreshRefused("refresh token was already used; sign in again")
        row = self.store.by_id(stored.account_id)
        if row is None or row.disabled_at is not None:
            raise RefreshRefused("the account is disabled; sign in again")
        return self._session(row, family=stored.family)

    def sign_out(self, token: str) -> bool:
        """Revoke the refresh token (and the rest of its sign-in); False if it was not a live token."""
        now = self.clock()
        try:
            stored = self._live(token, now)
        except RefreshRefused:
            return False
        return self.store.revoke_family(stored.family, now) > 0

    def _live(self, token: str, now: datetime) -> RefreshRow:
        stored = self.store.refresh_row(refresh_digest(token)) if looks_like_refresh_token(token) else None
        if stored is None:
            raise RefreshRefused("refresh token is not known")
        if stored.revoked_at is not None:
            raise RefreshRefused("refresh token was revoked (signed out, or its sign-in was revoked); sign in again")
        if stored.rotated_at is not None:
            self.store.revoke_family(stored.family, now)
            raise RefreshRefused("refresh token was already used; every session of that sign-in is now revoked, "
                                 "sign in again")
        if now >= stored.expires_at:
            raise RefreshRefused(f"refresh token expired at {_iso(stored.expires_at)}; sign in again")
        return stored

    def _session(self, row: AccountRow, *, family: str) -> Session:
        now = self.clock()
        access = issue_token(self.token_secret, row.subject, role=row.role, ttl=self.access_ttl,  # type: ignore[arg-type]
                             now=now)
        refresh = new_refresh_token()
        refresh_expires = now + self.refresh_ttl
        self.store.insert_refresh(RefreshRow(refresh_digest(refresh), row.account_id, family, now, refresh_expires,
                                             None, None))
        return Session(access, now + self.access_ttl, refresh, refresh_expires, Account.of(row))


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")
