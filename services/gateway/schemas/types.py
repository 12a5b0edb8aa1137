"""Strict field types for what clients send: plain ASCII numbers and ids, ISO 8601 times with a zone.

Python is lenient where a market must not be: ``Decimal("1_000")`` is 1000, full-width digits parse, a bare
``0.5`` is a datetime in 1970 and ``"yes"`` is true. These types accept only the canonical forms and say
which rule a value breaks.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, Field, StrictBool

from shared.contracts.base import check_slot

_DECIMAL = re.compile(r"^[0-9]{1,12}(\.[0-9]{1,6})?$")
_ISO = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,6})?)?(Z|[+-][0-9]{2}:[0-9]{2})$")
ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$"
_ID = re.compile(ID_PATTERN)
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)


def _plain_decimal(value: Any) -> Any:
    if isinstance(value, bool):
        raise ValueError("must be a number, not a boolean")
    if isinstance(value, int | float):
        value = repr(value) if isinstance(value, float) else str(value)
    if not isinstance(value, str):
        raise ValueError("must be a decimal number such as \"1.5\"")
    if not _DECIMAL.fullmatch(value):
        raise ValueError(f"{value[:40]!r} is not a plain decimal (ASCII digits, one optional '.', no sign, "
                         "no '_', no exponent)")
    try:
        return Decimal(value)
    except InvalidOperation:
        raise ValueError(f"{value[:40]!r} is not a decimal number") from None


def _iso_moment(value: Any) -> Any:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("must carry a time zone")
        return value
    if not isinstance(value, str) or not _ISO.fullmatch(value):
        shown = repr(value)[:60]
        raise ValueError(f"{shown} is not an ISO 8601 time with a zone, e.g. 2026-11-28T13:00:00+09:00 "
                         "(upper-case T and Z)")
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _in_range(value: datetime) -> datetime:
    if value < EARLIEST:
        raise ValueError(f"{value.isoformat()} is before {EARLIEST.date().isoformat()}")
    return value


def plain_decimal(*, gt: int | None = None, ge: int | None = None, le: int | None = None,
                  decimal_places: int, description: str) -> Any:
    """A decimal given as an ASCII string or JSON number, within bounds, with at most ``decimal_places``."""
    return Annotated[Decimal, BeforeValidator(_plain_decimal),
                     Field(gt=gt, ge=ge, le=le, decimal_places=decimal_places, description=description,
                           json_schema_extra={"type": "string", "pattern": _DECIMAL.pattern})]


Moment = Annotated[datetime, BeforeValidator(_iso_moment), AfterValidator(_in_range),
                   Field(description="ISO 8601 time with a zone, e.g. 2026-11-28T13:00:00+09:00",
                         json_schema_extra={"pattern": _ISO.pattern})]
SlotStart = Annotated[datetime, BeforeValidator(_iso_moment), AfterValidator(_in_range), AfterValidator(check_slot),
                      Field(description="slot start: ISO 8601 with a zone, on hh:00 or hh:30",
                            json_schema_extra={"pattern": _ISO.pattern})]
Id = Annotated[str, Field(pattern=ID_PATTERN, description="1-64 of A-Z a-z 0-9 _ . : -, starting with a letter or "
                                                          "digit")]
Flag = StrictBool
Kwh = plain_decimal(gt=0, le=1000, decimal_places=3, description="energy in kWh (Wh resolution)")
Price = plain_decimal(ge=0, le=1000, decimal_places=2, description="price in yen/kWh")
Share = plain_decimal(ge=0, le=1, decimal_places=4, description="share, 0..1")


def check_id(value: str) -> bool:
    return bool(_ID.fullmatch(value))
