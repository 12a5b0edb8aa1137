"""Sign-up, sign-in (OAuth2 password flow), refresh and sign-out for accounts.

``POST /v1/auth/token`` takes the form fields ``username`` and ``password`` and answers a short-lived
``cm1`` access token (the same signed role token every route checks) and a refresh token that works once.
Failed sign-ins and sign-ups are rate-limited (``auth_limits``); messages never say whether a username
exists, except sign-up's 409, which has to.
"""

from __future__ import annotations

import unicodedata
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, status
from fastapi.responses import JSONResponse
from fastapi.security import OAuth2PasswordRequestForm

from services.gateway.accounts.domain.rules import RuleBroken
from services.gateway.accounts.service import BadCredentials, Session, UsernameTaken
from services.gateway.deps import AccountsDep, Caller, GatewayDep
from services.gateway.errors import FieldRuleError, StateConflict
from services.gateway.schemas.auth import AccountPublic, Me, RefreshBody, SignedOut, SignUp, TokenAnswer
from services.gateway.schemas.common import ErrorBody, error_responses

router = APIRouter(prefix="/v1/auth", tags=["auth"], responses=error_responses(422))
TOO_MANY = {429: {"model": ErrorBody, "description": "too many attempts: wait Retry-After seconds",
                  "headers": {"Retry-After": {"description": "seconds to wait",
                                              "schema": {"type": "string", "pattern": "^[0-9]+$"}}}}}


def _address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _too_many(wait: int, what: str) -> JSONResponse:
    return JSONResponse(status_code=429, headers={"Retry-After": str(wait)},
                        content={"message": f"too many {what}; try again in {wait} s"})


def account_rules(loc: str, make: Any) -> Any:
    """Account rules broken become 422 naming the field; a taken name 409."""
    try:
        return make()
    except RuleBroken as exc:
        raise FieldRuleError((loc, exc.field), str(exc)) from None
    except UsernameTaken as exc:
        raise StateConflict(str(exc)) from None


def token_answer(session: Session, accounts: Any) -> TokenAnswer:
    return TokenAnswer(access_token=session.access_token, expires_in=int(accounts.access_ttl.total_seconds()),
                       expires_at=session.access_expires_at, refresh_token=session.refresh_token,
                       refresh_expires_at=session.refresh_expires_at, account=AccountPublic.of(session.account))


@router.post("/signup", status_code=status.HTTP_201_CREATED, response_model=AccountPublic,
             responses={**error_responses(409, 413), **TOO_MANY})
def sign_up(body: SignUp, request: Request, accounts: AccountsDep, gw: GatewayDep) -> Any:
    """Create an app-user account (a new participant id); then sign in at /v1/auth/token. 409 when the
    username is taken, 422 naming the rule a username or password breaks."""
    wait = gw.auth_limits.sign_up_wait(_address(request))
    if wait:
        return _too_many(wait, "sign-ups from this address")
    return AccountPublic.of(account_rules("body", lambda: accounts.sign_up(body.username, body.password)))


@router.post("/token", response_model=TokenAnswer, responses={**error_responses(401, 413), **TOO_MANY})
def sign_in(form: Annotated[OAuth2PasswordRequestForm, Depends()], request: Request, accounts: AccountsDep,
            gw: GatewayDep) -> Any:
    """OAuth2 password flow (form fields ``username``, ``password``): an access token and a refresh token.
    401 for a wrong username or password (the same answer for both); 429 after repeated failures."""
    name = unicodedata.normalize("NFKC", form.username).strip().lower()[:64]
    address = _address(request)
    wait = gw.auth_limits.sign_in_wait(name, address)
    if wait:
        return _too_many(wait, "failed sign-ins")
    try:
        session = accounts.sign_in(form.username, form.password)
    except BadCredentials:
        gw.auth_limits.sign_in_failed(name, address)
        raise
    gw.auth_limits.sign_in_succeeded(name)
    return token_answer(session, accounts)


@router.post("/refresh", response_model=TokenAnswer, responses=error_responses(401, 413))
def refresh(body: RefreshBody, accounts: AccountsDep) -> TokenAnswer:
    """A new access token and a new refresh token; the one sent stops working. Sending a refresh token a
    second time revokes that whole sign-in (it was copied)."""
    return token_answer(accounts.refresh(body.refresh_token), accounts)


@router.post("/signout", response_model=SignedOut, responses=error_responses(413))
def sign_out(body: RefreshBody, accounts: AccountsDep) -> SignedOut:
    """Revoke the refresh token (it, and every token refreshed from the same sign-in, stop working)."""
    return SignedOut(revoked=accounts.sign_out(body.refresh_token))


@router.get("/me", response_model=Me, responses=error_responses(401))
def me(claims: Caller) -> Me:
    """Whom the bearer token speaks for, its role and expiry."""
    if claims is None:
        return Me(participant=None, role="operator", expires_at=None)
    return Me(participant=claims.subject, role=claims.role, expires_at=claims.expires_at)
