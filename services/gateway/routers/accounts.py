"""Operators manage accounts: create operator, planner, device and app-user accounts, list, disable."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, status
from fastapi.responses import JSONResponse

from services.gateway.deps import AccountsDep, Operator
from services.gateway.routers.auth import account_rules
from services.gateway.schemas.auth import AccountCreate, AccountPublic
from services.gateway.schemas.common import error_responses

router = APIRouter(prefix="/v1/operator/accounts", tags=["operator"], responses=error_responses(401, 403, 422))


@router.post("", status_code=status.HTTP_201_CREATED, response_model=AccountPublic,
             responses=error_responses(409, 413))
def create_account(body: AccountCreate, _: Operator, accounts: AccountsDep) -> AccountPublic:
    """An account of any role; ``participant`` binds it to an existing participant (a device must name one)."""
    return AccountPublic.of(account_rules("body", lambda: accounts.create(body.username, body.password, body.role,
                                                                        body.participant)))


@router.get("", response_model=list[AccountPublic])
def list_accounts(_: Operator, accounts: AccountsDep) -> list[AccountPublic]:
    return [AccountPublic.of(a) for a in accounts.all()]


@router.post("/{account_id}/disable", response_model=AccountPublic, responses=error_responses(404))
def disable_account(account_id: Annotated[str, Path(min_length=1, max_length=64)], _: Operator,
                    accounts: AccountsDep) -> Any:
    """No more sign-ins or refreshes for the account; its access tokens lapse within their short lifetime."""
    if not accounts.disable(account_id):
        return JSONResponse(status_code=404, content={"message": f"no account {account_id!r}"})
    account = accounts.get(account_id)
    assert account is not None
    return AccountPublic.of(account)
