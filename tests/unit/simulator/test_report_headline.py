"""Each headline figure of a report matches the tables below it (what a planner would cross-check by eye)."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from simulator.los import rank


class _Page(HTMLParser):
    """Headline cards (data-kpi) and tables (data-table) of a report page, as the text a reader sees."""

    def __init__(self) -> None:
        super().__init__()
        self.cards: dict[str, dict[str, str]] = {}
        self.tables: dict[str, list[dict[str, str]]] = {}
        self._card: str | None = None
        self._depth = 0
        self._table: str | None = None
        self._row: dict[str, str] | None = None
        self._col: str | None = None
        self._cells: list[str] = []
        self._text: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "div" and self._card:
            self._depth += 1
        if "data-kpi" in a:
            self._card, self._depth = a["data-kpi"], 1
            self.cards[self._card] = {"value": a["data-value"], "text": ""}
        if tag == "table" and "data-table" in a:
            self._table = a["data-table"]
            self.tables[self._table] = []
        if tag == "tr" and self._table:
            self._row, self._cells = dict(a), []
        if tag == "td" and self._row is not None:
            self._col, self._text = a.get("data-col", ""), []

    def handle_endtag(self, tag):
        if tag == "div" and self._card:
            self._depth -= 1
            if self._depth == 0:
                self._card = None
        if tag == "td" and self._row is not None:
            text = "".join(self._text).strip()
            self._cells.append(text)
            if self._col:
                self._row[self._col] = text
            self._col = None
        if tag == "tr" and self._row is not None and self._table:
            if self._cells:
                self._row["cells"] = self._cells  # type: ignore[assignment]
                self.tables[self._table].append(self._row)
            self._row = None
        if tag == "table":
            self._table = None

    def handle_data(self, data):
        if self._card:
            self.cards[self._card]["text"] += data
        if self._col is not None:
            self._text.append(data)


def _parse(path) -> _Page:
    page = _Page()
    page.feed(path.read_text(encoding="utf-8"))
    return page


def _num(text: str) -> float:
    """'58,796,430 yen' -> 58796430.0"""
    match = re.match(r"-?[\d,]+(\.\d+)?", text.strip())
    assert match, f"no number in {text!r}"
    return float(match.group(0).replace(",", ""))


def _kpi(page: _Page, label: str) -> str:
    for row in page.tables["kpis"]:
        if row["cells"][0] == label:  # type: ignore[index]
            return row["cells"][2]  # type: ignore[index]
    raise AssertionError(f"no KPI row {label!r}")


def _kpi_sum(page: _Page, prefix: str) -> float:
    return sum(_num(row["cells"][2]) for row in page.tables["kpis"]  # type: ignore[index]
               if row["cells"][0].startswith(prefix))  # type: ignore[index]


@pytest.mark.parametrize("scenario", ["ebina_weekday", "ebina_weekday_event", "ebina_rainy_saturday"])
def test_headline_matches_the_tables(report_runs, scenario):
    """People, level of service (level, place, window), peak load, footfall, sales and shifted trips in the headline
    are the figures of the KPI, chokepoint and offers tables."""
    _sim, path, _ = report_runs[scenario]
    page = _parse(path)
    cards, chokepoints = page.cards, page.tables["chokepoints"]
    assert _num(cards["agents"]["text"].split("people simulated")[1]) == _num(_kpi(page, "people simulated"))

    worst = max(chokepoints, key=lambda r: rank(r["data-los"]))
    assert cards["worst_los"]["value"] == worst["data-los"] == worst["los"].split()[0]
    assert max(rank(r["los_flow"]) for r in chokepoints) <= rank(cards["worst_los"]["value"])
    assert max(rank(r["los_space"]) for r in chokepoints) <= rank(cards["worst_los"]["value"])
    same_level = [r for r in chokepoints if r["data-los"] == worst["data-los"]]
    named = [r for r in same_level if r["place"] in cards["worst_los"]["text"]]
    assert named, "the headline names a chokepoint at the worst level"
    assert named[0]["data-los-window"] in cards["worst_los"]["text"]
    assert _num(cards["minutes_los_d_or_worse"]["value"]) == _num(
        _kpi(page, "minutes with a chokepoint at level D or worse"))
    assert _num(cards["minutes_los_d_or_worse"]["value"]) >= max(_num(r["d_minutes"]) for r in chokepoints)

    busiest = max(chokepoints, key=lambda r: _num(r["peak"]))
    assert _num(cards["peak_load_per_min"]["value"]) == _num(busiest["peak"])
    assert busiest["place"] in cards["peak_load_per_min"]["text"]
    assert busiest["peak_window"] in cards["peak_load_per_min"]["text"]

    assert _num(cards["footfall_total"]["value"]) == _kpi_sum(page, "footfall ") == _num(
        _kpi(page, "footfall, all centres"))
    assert _num(cards["sales_yen_total"]["value"]) == _kpi_sum(page, "estimated sales ") == _num(
        _kpi(page, "estimated sales, all centres"))
    if "shifted_trips" in cards:
        accepted = sum(_num(r["cells"][5]) for r in page.tables["offers"])  # type: ignore[index]
        assert _num(cards["shifted_trips"]["value"]) == accepted == _num(_kpi(page, "shifted trips (offers accepted)"))
