"""What the sign-up, sign-in, refresh and account routes take and answer."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from services.gateway.accounts.service import Account

RoleName = Literal["app-user", "device", "operator", "planner"]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SignUp(_Body):
    username: str = Field(min_length=1, max_length=64, description="3-64 of a-z 0-9 . - _ (stored in lower case)")
    password: str = Field(min_length=1, max_length=256,
                          description="at least 10 characters, 5 different ones, not a common password, "
                                      "not containing the username")


class AccountCreate(SignUp):
    role: RoleName = "app-user"
    participant: str | None = Field(default=None, min_length=1, max_length=64,
                                    description="the ledger participant the account speaks for (required for "
                                                "a device; default: the new account's own id)")


class RefreshBody(_Body):
    refresh_token: str = Field(min_length=1, max_length=128)


class AccountPublic(BaseModel):
    account_id: str
    username: str
    role: RoleName
    participant: str = Field(description="whom the account's access tokens speak for (their subject)")
    created_at: datetime
    disabled: bool

    @classmethod
    def of(cls, account: Account) -> AccountPublic:
        return cls(account_id=account.account_id, username=account.username, role=account.role,  # type: ignore[arg-type]
                   participant=account.subject, created_at=account.created_at, disabled=account.disabled)


class TokenAnswer(BaseModel):
    """OAuth2's token answer, plus when each token expires and who signed in."""

    access_token: str = Field(description="cm1 bearer token for every other route")
    token_type: Literal["bearer"] = "bearer"
    expires_in: int = Field(description="seconds the access token lives")
    expires_at: datetime
    refresh_token: str = Field(description="opaque; works once at /v1/auth/refresh")
    refresh_expires_at: datetime
    account: AccountPublic


class SignedOut(BaseModel):
    revoked: bool = Field(description="false if the token was not live (already signed out, used or unknown)")


class Me(BaseModel):
    participant: str | None = Field(description="the token's subject (none for the operator's configured secret)")
    role: RoleName
    expires_at: datetime | None
