"""Shapes every area shares: the error body."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class ValidationProblem(BaseModel):
    loc: list[str | int]
    msg: str
    type: str


class ErrorBody(BaseModel):
    """Every 4xx and 503: one readable message naming the field or rule; validation errors add detail."""

    message: str = Field(description="what is wrong, naming the field and the rule")
    detail: list[ValidationProblem] | None = None


def error_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries for the error statuses a route can answer, all with :class:`ErrorBody`."""
    return {code: {"model": ErrorBody} for code in codes}
