"""The one rounding rule and the units of the ledger."""

from decimal import Decimal

import pytest

from services.settlement.domain.money import amount_sen, kwh_to_wh, sen_to_yen, wh_to_kwh
from shared.units import yen_to_sen


@pytest.mark.parametrize(("kwh", "price", "sen"), [
    ("1.500", "25.33", 3800),   # 37.995 -> 38.00 (half to even: ...99.5 sen rounds up to even 3800)
    ("0.500", "0.01", 0),       # 0.005 yen = 0.5 sen -> 0 (even)
    ("1.500", "0.01", 2),       # 0.015 yen = 1.5 sen -> 2 (even)
    ("0.001", "1000", 100),
    ("2", "30", 6000),
])
def test_an_amount_is_rounded_half_even_once(kwh: str, price: str, sen: int) -> None:
    """kWh x yen/kWh is rounded to whole sen with half-even, exactly as documented."""
    assert amount_sen(Decimal(kwh), Decimal(price)) == sen


def test_a_price_converts_exactly_or_not_at_all() -> None:
    """yen_to_sen is the exact conversion of a price: a finer value is refused, never rounded."""
    assert yen_to_sen(Decimal("12.34")) == 1234
    with pytest.raises(ValueError, match=r"finer than 0\.01 yen"):
        yen_to_sen(Decimal("12.345"))


def test_units_round_trip_without_floats() -> None:
    """Wh and sen convert back to the Decimals statements show, with fixed places."""
    assert kwh_to_wh(Decimal("1.234")) == 1234
    assert wh_to_kwh(1234) == Decimal("1.234")
    assert str(sen_to_yen(-4265)) == "-42.65"


def test_sub_wh_energy_is_refused() -> None:
    """Energy finer than a Wh is an error, not silently rounded away."""
    with pytest.raises(ValueError, match="finer than 1 Wh"):
        kwh_to_wh(Decimal("0.0005"))
