"""The statement's HTML reads like a bill: yen and kWh with separators, local slot times, plain words."""

from __future__ import annotations

import re

from services.settlement.domain.statement import Statement, StatementLine


def _statement(**totals: str) -> Statement:
    line = StatementLine("t-1", "2026-11-26T15:00:00+00:00", "buyer", "pv_owner_a", "1234.500", "25.33",
                         "-31270.89", "-3826.95", "0.00", "-35097.84", True, 7, "ab" * 32)
    base = {"energy_yen": "-31270.89", "wheeling_yen": "-3826.95", "platform_fee_yen": "0.00",
            "net_yen": "-35097.84", "bought_kwh": "1234.500", "sold_kwh": "0.000", "certificates_kwh": "1.000"}
    certs = [{"cert_id": "c-1", "kwh": "1.000", "source_site": None, "slot": "2026-11-26T15:00:00+00:00"}]
    return Statement("ev-owner-b", None, "2026-11-27T00:00:00+00:00", [line], {**base, **totals}, certs, [])


def test_statement_html_is_a_bill():
    """Amounts with thousands separators and units, the slot in JST, the counterparty in words, a verdict at the
    top; no snake_case total keys and no 'None' anywhere."""
    page = _statement().to_html()
    text = re.sub(r"<[^>]+>", " ", page)
    assert "You pay 35,097.84 yen" in text
    assert "1,234.500 kWh" in text and "-31,270.89" in text and "-3,826.95" in text
    assert "2026-11-27 00:00–00:30" in text  # 15:00 UTC is midnight in Japan
    assert "Bought from pv_owner_a" in text and "#7" in text
    assert "2026-11-27 09:00 (Japan Standard Time)" in text and "from the first entry" in text
    for key in ("net_yen", "energy_yen", "bought_kwh", "certificates_kwh", "platform_fee_yen"):
        assert key not in text
    assert "None" not in text and "from None" not in text
    assert "<style>" in page and "http" not in page.replace("http-equiv", "")


def test_statement_html_says_when_money_is_received():
    """A seller's net is money received, said in words."""
    page = _statement(net_yen="44.14").to_html()
    assert "You receive 44.14 yen" in page
