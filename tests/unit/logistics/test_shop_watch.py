"""The city's eye on the bus: shops' days in; surges, stock-outs, waste and demand shifts out, each once."""

from __future__ import annotations

from datetime import date, timedelta

from services.logistics.domain.anomalies import detect, detect_shift, synthetic_stream
from services.logistics.service import build_service
from shared.bus.inprocess import InProcessBus
from shared.contracts.crowd import ANOMALIES
from shared.contracts.logistics import SHOP_DAYS, STOCK, ShopDayReported, StockAnomalyDetected

DAY0 = date(2020, 1, 6)


def report(r) -> ShopDayReported:
    return ShopDayReported(shop=r.shop, item=r.item, day=DAY0 + timedelta(days=r.day), sold=r.sold,
                           stock_end=r.stock_end, written_off=r.written_off, area=r.area)


def test_the_live_service_finds_what_the_batch_rules_find_and_says_why(network):
    """A seeded month with surges, stock-outs, waste and a move to home areas from day 28, reported shop by shop
    and day by day: city.anomalies holds exactly the batch rules' alerts, each with its evidence, and the
    stock view says which shops are out."""
    records, _ = synthetic_stream(5, shops=12, items=6, shift_from=28)
    bus = InProcessBus([build_service(network)])
    for r in sorted(records, key=lambda r: (r.day, r.shop, r.item)):
        bus.publish(SHOP_DAYS, report(r))
    bus.run_until_idle()
    got = [a for a in bus.events(ANOMALIES) if isinstance(a, StockAnomalyDetected)]
    last = max(r.day for r in records)  # the last day's home share is judged when a later day arrives
    complete = detect(records) + [a for a in detect_shift(records) if a.day < last]
    assert sorted((a.kind, a.shop, a.item, (a.day - DAY0).days) for a in got) == sorted(
        (a.kind, a.shop, a.item, a.day) for a in complete)
    shift = min((a for a in got if a.kind == "shift"), key=lambda a: a.day)
    assert shift.day == DAY0 + timedelta(days=28) and "home-area shops sold" in shift.evidence
    surge = next(a for a in got if a.kind == "surge")
    assert f"sold {surge.observed:.0f} against a median of" in surge.evidence
    outs = {(s.shop, s.item) for s in bus.events(STOCK) if s.status == "out" and s.day == DAY0 + timedelta(days=41)}
    assert outs == {(r.shop, r.item) for r in records if r.day == 41 and r.stock_end == 0}
    assert not bus.dead_letters


def test_a_redelivered_report_republishes_the_same_alert_and_changes_nothing(network):
    """Two weeks of steady mask sales, then a day ten times the usual, delivered twice: the same surge twice
    (redelivery repeats, never invents) and the series is not moved by the copy."""
    svc = build_service(network)
    bus = InProcessBus([svc])
    for d in range(14):
        bus.publish(SHOP_DAYS, ShopDayReported(shop="vinawalk-pharmacy", item="masks", day=DAY0 + timedelta(days=d),
                                               sold=20 + d % 3, stock_end=40, area="station"))
    jump = ShopDayReported(shop="vinawalk-pharmacy", item="masks", day=DAY0 + timedelta(days=14), sold=200,
                           stock_end=0, area="station")
    bus.publish(SHOP_DAYS, jump)
    bus.publish(SHOP_DAYS, jump)
    bus.run_until_idle()
    alerts = [a for a in bus.events(ANOMALIES) if isinstance(a, StockAnomalyDetected)]
    assert [(a.kind, a.observed) for a in alerts] == [("surge", 200), ("stockout", 0)] * 2
    assert alerts[0] == alerts[2] and 19 <= alerts[0].expected <= 22


def test_a_shop_report_that_breaks_the_contract_is_dead_lettered_with_the_field(network):
    """Negative sales are refused at the contract: the message goes to the dead-letter topic naming `sold`."""
    bus = InProcessBus([build_service(network)])
    good = ShopDayReported(shop="s", item="i", day=DAY0, sold=1, stock_end=1)
    raw = good.model_dump_json()  # not an envelope at all
    bus.publish_raw(SHOP_DAYS.name, raw.encode())
    bus.run_until_idle()
    assert bus.dead_letters[SHOP_DAYS.name]
