"""Community files: the shipped examples load, bad files give field-level errors, a full slot clears."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal as D
from zoneinfo import ZoneInfo

import pytest

from services.market.adapters.community_yaml import CommunityError, load_community, parse_community
from services.market.domain.agents import decide, to_orders
from services.market.service import build_service
from shared.contracts.base import Envelope
from shared.contracts.energy import ORDERS, GateClosed, OrderRejected, SlotCleared, TradeMatched


@pytest.fixture(scope="module")
def higashi_fuji():
    return load_community("higashi_fuji")


@pytest.fixture(scope="module")
def ebina():
    return load_community("ebina")


def test_higashi_fuji_matches_the_pilot(higashi_fuji):
    """The pilot community has 1 office, 20 homes of which 4 with batteries, and 9 plug-in hybrids."""
    members = higashi_fuji.members
    homes = [m for m in members if m.kind == "household"]
    assert sum(m.kind == "office" for m in members) == 1
    assert len(homes) == 20 and sum(m.battery is not None for m in homes) == 4
    assert sum(m.ev is not None for m in members) == 9


def test_ebina_has_both_shopping_centres_and_limited_lines(ebina):
    """The Ebina community has ViNA WALK and LaLaport Ebina and line limits on their sites."""
    ids = {m.participant_id for m in ebina.members}
    assert {"vinawalk", "lalaport-ebina", "station-battery"} <= ids
    assert ebina.line_capacity_kwh == {"east": D("400"), "west": D("400")}
    assert ebina.location.latitude == pytest.approx(35.4525)


def _minimal(**changes):
    data = {"name": "t", "location": {"latitude": 35.0, "longitude": 139.0},
            "tariffs": {"retail": 26, "buyback": 7}, "participants": [{"id": "a", "kind": "household"}]}
    data.update(changes)
    return data


@pytest.mark.parametrize(("changes", "needle"), [
    ({"location": {"latitude": 95, "longitude": 0}}, "location.latitude"),
    ({"tariffs": {"retail": 5, "buyback": 7}}, "buyback must not exceed retail"),
    ({"participants": [{"id": "a", "kind": "robot"}]}, "participants.0.kind"),
    ({"participants": [{"id": "a", "kind": "household", "profile": "nope"}]}, "unknown profile 'nope'"),
    ({"participants": [{"id": "a", "kind": "household", "site": "x"}]}, "unknown site 'x'"),
    ({"participants": [{"id": "a", "kind": "household"}, {"id": "a", "kind": "office"}]}, "repeated: a"),
    ({"participants": [{"id": "h", "kind": "household", "count": 3}]}, "must contain {i}"),
    ({"participants": [{"id": "a", "kind": "battery"}]}, "needs a 'battery' entry"),
    ({"market": {"pricing": "auction"}}, "pricing must be one of"),
    ({"surprise": 1}, "surprise"),
])
def test_bad_files_are_refused_with_the_field_named(changes, needle):
    """Each kind of mistake raises CommunityError naming the field or the reason."""
    with pytest.raises(CommunityError, match=None) as err:
        parse_community(_minimal(**changes), "t.yaml")
    assert needle in str(err.value)


def test_missing_file_lists_shipped_communities(tmp_path):
    """Asking for a file that does not exist says so and names the shipped examples."""
    with pytest.raises(CommunityError, match="ebina"):
        load_community(tmp_path / "nope.yaml")


def test_count_expands_ids(higashi_fuji):
    """A participant entry with count expands into numbered members."""
    assert higashi_fuji.member("home-01").battery is not None
    assert higashi_fuji.member("commuter-ev-04").site == "office"


@pytest.mark.parametrize("name", ["higashi_fuji", "ebina"])
@pytest.mark.parametrize("hour", [3, 12, 19])
def test_agents_orders_clear_through_the_service_without_rejections(name, hour, request):
    """Every agent's orders for a slot pass the book's checks and clear into balanced trades."""
    community = request.getfixturevalue(name)
    slot = datetime(2026, 5, 12, hour, 0, tzinfo=ZoneInfo("Asia/Tokyo")).astimezone(UTC)
    now = slot - timedelta(hours=1)
    svc = build_service(community.market_settings(), clock=lambda: now)
    out = []
    for a in community.agent_inputs(slot, weather_factor=0.8):
        for order in to_orders(a, slot, decide(a), now):
            out += svc.handle(ORDERS, Envelope.wrap(order, "agent", occurred_at=now), order)
    assert [o.payload.reason for o in out if isinstance(o.payload, OrderRejected)] == []
    gate = GateClosed(slot=slot)
    result = list(svc.handle(ORDERS, Envelope.wrap(gate, "clock"), gate))
    trades = [o.payload for o in result if isinstance(o.payload, TradeMatched)]
    (summary,) = [o.payload for o in result if isinstance(o.payload, SlotCleared)]
    assert summary.trades == len(trades) and summary.kwh == sum((t.kwh for t in trades), D("0"))
    if hour == 12:
        assert any(t.seller != "grid" and t.buyer != "grid" for t in trades)


def test_a_day_in_higashi_fuji_saves_buyers_and_sellers_money(higashi_fuji):
    """Over a sunny day peers buy below the grid's retail price and sell above its buy-back price."""
    from datetime import date

    from services.market.simulate import simulate_day

    report = simulate_day(higashi_fuji, date(2026, 5, 12), weather_factor=0.8)
    assert report.slots == 48 and report.p2p_kwh > 0 and report.tier_a_kwh > 0
    assert report.avg_purchase_price < higashi_fuji.retail_price
    assert report.avg_sale_price > higashi_fuji.buyback_price
    assert report.renewable_kwh <= report.p2p_kwh


def test_community_orders_cover_coming_slots(higashi_fuji):
    """Orders for several coming slots carry their slot and distinct deterministic ids."""
    slots = [datetime(2026, 5, 12, h, 0, tzinfo=ZoneInfo("Asia/Tokyo")).astimezone(UTC) for h in (11, 12)]
    orders = higashi_fuji.orders(slots, placed_at=slots[0] - timedelta(hours=1), weather_factor=0.8)
    assert {o.slot for o in orders} == set(slots)
    assert len({o.order_id for o in orders}) == len(orders)


def test_cli_checks_a_community_and_refuses_a_missing_file(capsys, tmp_path):
    """The planner's CLI lists a valid community and exits 2 with a reason for a missing file."""
    from services.market.cli import main

    assert main(["check", "higashi_fuji"]) == 0
    assert '"members": 25' in capsys.readouterr().out
    assert main(["check", str(tmp_path / "none.yaml")]) == 2
    assert "cannot read community file" in capsys.readouterr().err
