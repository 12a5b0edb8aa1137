"""An app user's preferences: read them, change some. Opting out of offers also tells the campaign service
(``incentives.users``), which then sends that user none."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from services.gateway.accounts.service import NoAccount
from services.gateway.deps import AccountsDep, Bus, ParticipantReader
from services.gateway.routers.auth import account_rules
from services.gateway.schemas.common import error_responses
from services.gateway.schemas.preferences import PreferencesChange, PreferencesPublic
from shared.contracts.incentives import USERS, OffersPreference

router = APIRouter(prefix="/v1/app/preferences", tags=["app"], responses=error_responses(401, 403, 404, 422))
NULLABLE = {"quiet_start", "quiet_end", "home_area", "work_area"}


def _no_account(exc: NoAccount) -> JSONResponse:
    return JSONResponse(status_code=404, content={"message": str(exc)})


@router.get("", response_model=PreferencesPublic)
def my_preferences(participant: ParticipantReader, accounts: AccountsDep) -> Any:
    """The caller's preferences (the defaults until they change any: no notifications, quiet 22:00-07:00)."""
    try:
        return vars(accounts.preferences(participant))
    except NoAccount as exc:
        return _no_account(exc)


@router.patch("", response_model=PreferencesPublic, responses=error_responses(413, 503))
async def change_preferences(body: PreferencesChange, participant: ParticipantReader, accounts: AccountsDep,
                             bus: Bus) -> Any:
    """Change the fields sent (null clears quiet hours or an area); 422 names a field that breaks a rule."""
    changes = {k: v for k, v in body.model_dump(exclude_unset=True).items() if v is not None or k in NULLABLE}
    try:
        current = accounts.preferences(participant)
    except NoAccount as exc:
        return _no_account(exc)
    if "offers_opt_out" in changes and changes["offers_opt_out"] != current.offers_opt_out:
        await bus.publish(USERS, OffersPreference(user=participant, opted_out=changes["offers_opt_out"]))
    return vars(account_rules("body", lambda: accounts.update_preferences(participant, changes)))
