"""The platform's integer units: energy in Wh, prices in sen (0.01 yen). Decimal at the edges, never float.

Both the market's solver and the ledger work in these units; converting in one place keeps them agreeing
on what "1.234 kWh at 12.34 yen/kWh" is, and refuses finer values instead of rounding them away.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal

WH_PER_KWH = 1000
SEN_PER_YEN = 100
KWH_Q = Decimal("0.001")
YEN_Q = Decimal("0.01")
# The market's trading period: every slot starts on :00 or :30 UTC and lasts this long.
SLOT_MINUTES = 30
SLOT = timedelta(minutes=SLOT_MINUTES)


def kwh_to_wh(kwh: Decimal) -> int:
    """kWh (at most 3 decimals) -> integer Wh; a finer value is an error, not silently rounded."""
    wh = kwh * WH_PER_KWH
    if wh != wh.to_integral_value():
        raise ValueError(f"{kwh} kWh is finer than 1 Wh")
    return int(wh)


def wh_to_kwh(wh: int) -> Decimal:
    return (Decimal(int(wh)) / WH_PER_KWH).quantize(KWH_Q)


def yen_to_sen(yen: Decimal) -> int:
    """yen or yen/kWh (at most 2 decimals) -> integer sen; a finer value is an error."""
    sen = yen * SEN_PER_YEN
    if sen != sen.to_integral_value():
        raise ValueError(f"{yen} yen is finer than 0.01 yen")
    return int(sen)


def sen_to_yen(sen: int) -> Decimal:
    return (Decimal(int(sen)) / SEN_PER_YEN).quantize(YEN_Q)


def amount_sen(kwh: Decimal, yen_per_kwh: Decimal) -> int:
    """kWh x yen/kWh in whole sen: THE money rounding rule (half-even, once per amount).

    ``yen_to_sen`` and ``kwh_to_wh`` are exact (they refuse finer values); an amount is a product and is
    rounded, here and nowhere else, so the ledger, its reconcile and the market agree to the sen.
    """
    return int((kwh * yen_per_kwh * SEN_PER_YEN).to_integral_value(rounding=ROUND_HALF_EVEN))


def slot_start(moment: datetime) -> datetime:
    """The start of the slot containing ``moment`` (UTC)."""
    moment = moment.astimezone(UTC)
    return moment.replace(minute=moment.minute - moment.minute % SLOT_MINUTES, second=0, microsecond=0)
