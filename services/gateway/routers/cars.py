"""My car: the caller's cars with today's charging plan, and changing a car's mode (an override).

A mode change is a new plan on ``ev.plans``: the car's latest plan with the mode replaced (a new plan replaces
the old one whole, as the charging service reads it); the service re-plans and answers on ``ev.bookings``,
with what the override costs. A car whose latest plan names someone else is not the caller's: 404.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import JSONResponse

from services.gateway.cars import CarReader
from services.gateway.deps import Bus, ParticipantReader, gateway
from services.gateway.schemas.cars import CarPublic, ModeAccepted, ModeBody
from services.gateway.schemas.common import error_responses
from shared.contracts.charging import PLANS

router = APIRouter(prefix="/v1/app/cars", tags=["app"], responses=error_responses(401, 403))


async def _cars(request: Request) -> CarReader:
    return gateway(request).cars


Cars = Annotated[CarReader, Depends(_cars)]
Vehicle = Annotated[str, Path(min_length=1, max_length=20, pattern=r"^[A-Za-z0-9_.:-]+$")]


@router.get("", response_model=list[CarPublic])
def my_cars(owner: ParticipantReader, cars: Cars) -> Any:
    """The caller's cars: mode, battery, the day's stays, and the charging service's latest answer."""
    return cars.cars_for(owner)


@router.put("/{vehicle}/mode", status_code=202, response_model=ModeAccepted,
            responses=error_responses(404, 413, 422, 503))
async def change_mode(vehicle: Vehicle, body: ModeBody, owner: ParticipantReader, cars: Cars, bus: Bus) -> Any:
    """Set the car's mode (Off / PV / Min+PV / Now / by departure); the re-planned answer follows on
    ``GET /v1/app/cars`` with what the override costs."""
    plan = cars.plan_of(owner, vehicle)
    if plan is None:
        return JSONResponse(status_code=404, content={"message": f"no car {vehicle!r} of yours has a plan"})
    envelope = await bus.publish(PLANS, plan.model_copy(update={"mode": body.mode}))
    return ModeAccepted(vehicle=vehicle, mode=body.mode, event_id=envelope.event_id)
