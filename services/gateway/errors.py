"""How failures become HTTP answers: one JSON body (:class:`ErrorBody`) with a message naming the rule.

401 no or bad token, 403 wrong role, 404 a thing the gateway knows does not exist, 409 a state conflict, 413 a
body over the limit, 422 a field breaks a rule, 503 the broker or the ledger cannot answer now (with
Retry-After). Anything unexpected is a JSON 500 that keeps the connection open; the suite proves no request
reaches it.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.gateway.publisher import BrokerUnavailable
from shared.auth import AuthError, ForbiddenError
from shared.errors import CitymatchError, DomainError

log = logging.getLogger("citymatch.gateway")
RETRY_AFTER_S = 2


class FieldRuleError(DomainError):
    """A field's value breaks a rule the gateway checks itself (HTTP 422 naming the field)."""

    def __init__(self, loc: tuple[str | int, ...], message: str) -> None:
        super().__init__(message)
        self.loc = loc


class StateConflict(DomainError):
    """The request contradicts the current state, e.g. closing a slot that has begun (HTTP 409)."""


class NotFound(DomainError):
    """What the request names does not exist, as far as the gateway's read model knows (HTTP 404)."""


class LedgerUnavailable(CitymatchError):
    """The ledger's database cannot answer now (HTTP 503)."""


class ServiceUnavailable(CitymatchError):
    """What the route needs is not configured on this gateway, or cannot answer now (HTTP 503)."""


def jsonable_errors(errors: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"loc": [str(p) if not isinstance(p, int) else p for p in e["loc"]], "msg": e["msg"], "type": e["type"]}
            for e in errors]


def _message(errors: list[dict[str, Any]]) -> str:
    return "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in errors)


def _json(status: int, message: str, headers: dict[str, str] | None = None, **extra: Any) -> JSONResponse:
    return JSONResponse(status_code=status, content={"message": message, **extra}, headers=headers)


async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
    errors = list(exc.errors())
    return _json(422, _message(errors), detail=jsonable_errors(errors))


async def model_error(request: Request, exc: ValidationError) -> JSONResponse:
    errors = list(exc.errors())
    return _json(422, _message(errors), detail=jsonable_errors(errors))


async def field_rule(request: Request, exc: FieldRuleError) -> JSONResponse:
    loc = ".".join(str(p) for p in exc.loc)
    return _json(422, f"{loc}: {exc}", detail=[{"loc": list(exc.loc), "msg": str(exc), "type": "value_error"}])


async def auth_error(request: Request, exc: AuthError) -> JSONResponse:
    description = str(exc).replace('"', "'")
    return _json(401, str(exc), headers={"WWW-Authenticate": f'Bearer error="invalid_token", '
                                                              f'error_description="{description}"'})


async def forbidden(request: Request, exc: ForbiddenError) -> JSONResponse:
    return _json(403, str(exc))


async def conflict(request: Request, exc: DomainError) -> JSONResponse:
    return _json(409, str(exc))


async def not_found(request: Request, exc: DomainError) -> JSONResponse:
    return _json(404, str(exc))


async def domain_error(request: Request, exc: DomainError) -> JSONResponse:
    return _json(422, str(exc))


async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    """Errors the framework raises itself: an unparsable body becomes a 422 like any other bad field."""
    if exc.status_code == 400:
        return _json(422, f"body: {exc.detail} (send one JSON object)",
                     detail=[{"loc": ["body"], "msg": str(exc.detail), "type": "json_invalid"}])
    return _json(exc.status_code, str(exc.detail), headers=dict(exc.headers or {}))


async def unavailable(request: Request, exc: CitymatchError) -> JSONResponse:
    retry = getattr(exc, "retry_after_s", RETRY_AFTER_S)
    return _json(503, str(exc), headers={"Retry-After": str(retry)})


async def not_confirmed(request: Request, exc: BrokerUnavailable) -> JSONResponse:
    # Every publishing route (orders, rides, trips, answers, campaigns) keys its record by the request's own id
    # or its Idempotency-Key, so the same retry is safe for all of them.
    return _json(503, f"{exc}; nothing is known to be accepted: retry after {exc.retry_after_s} s with the same "
                      "Idempotency-Key (or the same id in the body), a retry never records it twice",
                 headers={"Retry-After": str(exc.retry_after_s)})


def install(app: FastAPI) -> None:
    from sqlalchemy.exc import DBAPIError, OperationalError
    from sqlalchemy.exc import TimeoutError as PoolTimeout

    from services.gateway.idempotency import IdempotencyConflict

    async def ledger_down(request: Request, exc: Exception) -> JSONResponse:
        log.warning("ledger unavailable: %s: %s", exc.__class__.__name__, str(exc).splitlines()[0][:200])
        return await unavailable(request, LedgerUnavailable("the ledger cannot answer now; retry shortly"))

    handlers: list[tuple[type[BaseException], Any]] = [
        (RequestValidationError, validation_error), (ValidationError, model_error),
        (StarletteHTTPException, http_error),
        (FieldRuleError, field_rule), (ForbiddenError, forbidden), (AuthError, auth_error),
        (StateConflict, conflict), (IdempotencyConflict, conflict), (NotFound, not_found),
        (DomainError, domain_error),
        (BrokerUnavailable, not_confirmed), (LedgerUnavailable, unavailable), (ServiceUnavailable, unavailable),
        (OperationalError, ledger_down), (DBAPIError, ledger_down), (PoolTimeout, ledger_down),
    ]
    for kind, handler in handlers:
        app.add_exception_handler(kind, handler)


class CatchAll:
    """The last line: an unexpected error becomes a JSON 500 with a reference, and the connection stays open
    (an exception that reached the server would make it drop the keep-alive connection)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def watch(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, watch)
        except Exception:
            reference = uuid.uuid4().hex[:12]
            log.exception("unexpected error on %s %s (reference %s)", scope["method"], scope["path"], reference)
            if started:
                raise
            response = _json(500, f"internal error (reference {reference})")
            await response(scope, receive, send)


class BodyLimit:
    """Refuses a request body over ``max_bytes`` with 413 before the app reads it whole."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_bytes):
            await self._refuse(scope, receive, send)
            return
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await self._refuse(scope, receive, send)
                return
            chunks.append(chunk)
            more = message.get("more_body", False)
        body = b"".join(chunks)
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = _json(413, f"request body exceeds the limit of {self.max_bytes} bytes")
        await response(scope, receive, send)
