"""One router per area. A new area (app, campaigns, charging, mobility, ...) is a module here that defines
``router`` and one line in :data:`ROUTERS`; ``create_app`` mounts them all."""

from __future__ import annotations

from fastapi import APIRouter

from services.gateway.routers import (
    accounts,
    auth,
    campaigns,
    cars,
    coowned,
    energy,
    ledger,
    ledger_proofs,
    live,
    offers,
    operator,
    ops,
    planner,
    preferences,
    rides,
    web,
)

ROUTERS: tuple[APIRouter, ...] = (
    ops.router,
    energy.router,
    ledger.router,
    ledger_proofs.router,
    operator.router,
    coowned.operator_router,
    auth.router,
    accounts.router,
    preferences.router,
    campaigns.router,
    offers.router,
    cars.router,
    planner.router,
    live.router,
    rides.router,
    coowned.router,
    web.router,
)
