"""How failures become HTTP answers: one JSON body (:class:`ErrorBody`) with a message naming the rule."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from shared.auth import AuthError, ForbiddenError
from shared.errors import DomainError


def jsonable_errors(errors: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"loc": list(e["loc"]), "msg": e["msg"], "type": e["type"]} for e in errors]


def _message(errors: list[dict[str, Any]]) -> str:
    return "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in errors)


async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
    errors = list(exc.errors())
    return JSONResponse(status_code=422, content={"message": _message(errors), "detail": jsonable_errors(errors)})


async def auth_error(request: Request, exc: AuthError) -> JSONResponse:
    return JSONResponse(status_code=401, content={"message": str(exc)},
                        headers={"WWW-Authenticate": "Bearer"})


async def forbidden(request: Request, exc: ForbiddenError) -> JSONResponse:
    return JSONResponse(status_code=403, content={"message": str(exc)})


async def domain_error(request: Request, exc: DomainError) -> JSONResponse:
    return JSONResponse(status_code=400, content={"message": str(exc)})


def install(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, validation_error)  # type: ignore[arg-type]
    app.add_exception_handler(ForbiddenError, forbidden)  # type: ignore[arg-type]
    app.add_exception_handler(AuthError, auth_error)  # type: ignore[arg-type]
    app.add_exception_handler(DomainError, domain_error)  # type: ignore[arg-type]
