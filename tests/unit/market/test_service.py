"""The market service's handlers: orders -> gate -> trades, rejections, idempotent re-clearing, timer."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal as D

from hypothesis import given, settings
from hypothesis import strategies as st

from services.market.domain.registry import Device, Participant
from services.market.service import build_service
from services.market.settings import MarketSettings
from shared.contracts.base import Envelope
from shared.contracts.energy import (
    CLEARINGS,
    ORDERS,
    REJECTIONS,
    TRADES,
    DispatchSetpoint,
    EnergyOrderCancelled,
    EnergyOrderPlaced,
    GateClosed,
    OrderRejected,
    SlotCleared,
    TradeMatched,
)

NOW = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
SLOT = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)


def order(order_id: str, participant: str, side: str, kwh: str, price: str, **kw) -> EnergyOrderPlaced:
    return EnergyOrderPlaced(order_id=order_id, participant=participant, side=side, slot=kw.pop("slot", SLOT),
                             kwh=D(kwh), limit_price=D(price), placed_at=NOW, **kw)


class Clock:
    def __init__(self, now: datetime = NOW):
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def send(service, topic: str, payload):
    envelope = Envelope.wrap(payload, "test", occurred_at=service.market.clock())
    return service.handle(topic, envelope, payload)


def payloads(out, cls):
    return [o.payload for o in out if isinstance(o.payload, cls)]


def test_orders_then_gate_give_trades_and_summary():
    """Matching orders produce one trade per contract and a SlotCleared summary on their topics."""
    svc = build_service(clock=Clock())
    assert send(svc, ORDERS, order("s1", "u1", "sell", "1.0", "10", renewable=True)) == []
    assert send(svc, ORDERS, order("b1", "u5", "buy", "1.0", "25")) == []
    out = send(svc, ORDERS, GateClosed(slot=SLOT))
    trades = payloads(out, TradeMatched)
    assert len(trades) == 1 and trades[0].seller == "u1" and trades[0].buyer == "u5"
    assert trades[0].kwh == D("1.000") and trades[0].tier == "B" and trades[0].renewable
    assert D("10") <= trades[0].price and trades[0].price + trades[0].wheeling_fee <= D("25")
    (summary,) = payloads(out, SlotCleared)
    assert summary.trades == 1 and summary.orders == 2 and summary.surplus_yen == D("5.00")
    assert {o.topic.name for o in out} == {TRADES.name, CLEARINGS.name}


def test_redelivered_gate_gives_same_trade_ids():
    """Clearing a slot twice (redelivered GateClosed) republishes identical trades."""
    svc = build_service(clock=Clock())
    for o in (order("s1", "u1", "sell", "2", "8"), order("s2", "u2", "sell", "1", "9"),
              order("b1", "u3", "buy", "1.5", "30"), order("b2", "u4", "buy", "1", "28")):
        send(svc, ORDERS, o)
    first = send(svc, ORDERS, GateClosed(slot=SLOT))
    second = send(svc, ORDERS, GateClosed(slot=SLOT))
    assert first == second
    assert len(payloads(first, TradeMatched)) >= 2


def test_trade_ids_do_not_depend_on_arrival_order():
    """Two services fed the same orders in different order produce the same trade ids."""
    orders = [order("s1", "u1", "sell", "2", "8"), order("s2", "u2", "sell", "1", "9"),
              order("b1", "u3", "buy", "1.5", "30"), order("b2", "u4", "buy", "1", "28")]
    ids = []
    for seq in (orders, orders[::-1]):
        svc = build_service(clock=Clock())
        for o in seq:
            send(svc, ORDERS, o)
        out = send(svc, ORDERS, GateClosed(slot=SLOT))
        ids.append(sorted(t.trade_id for t in payloads(out, TradeMatched)))
    assert ids[0] == ids[1]


def test_empty_slot_still_publishes_summary():
    """A gate closure with no orders yields exactly one SlotCleared with zero trades."""
    out = send(build_service(clock=Clock()), ORDERS, GateClosed(slot=SLOT))
    assert len(out) == 1 and isinstance(out[0].payload, SlotCleared) and out[0].payload.trades == 0


def test_rejections_carry_reasons():
    """Late, duplicate, oversized, mispriced, unknown-participant and past orders are rejected with a reason."""
    clock = Clock()
    battery = Device("u1/battery", "battery", D("20"), D("40"))  # delivers up to 20 kWh in a slot
    registry = {"u1": Participant("u1", max_order_kwh=D("5"), devices=(battery,)), "u2": Participant("u2")}
    svc = build_service(MarketSettings(participants=registry), clock)
    assert send(svc, ORDERS, order("a", "u1", "sell", "1", "10")) == []
    cases = {
        "duplicate": order("a", "u1", "sell", "2", "10"),
        "over the registered per-slot limit": order("b", "u1", "sell", "6", "10"),
        "outside": order("c", "u2", "buy", "1", "500"),
        "unknown participant": order("d", "nobody", "buy", "1", "10"),
        "past": order("e", "u2", "buy", "1", "10", slot=NOW - timedelta(hours=1)),
        "gate closed": order("f", "u2", "buy", "1", "10", slot=NOW),
        "more than": order("g", "u2", "buy", "1", "10", slot=NOW + timedelta(days=5)),
        "net the position": order("h", "u1", "buy", "1", "10"),
    }
    for word, o in cases.items():
        out = send(svc, ORDERS, o)
        (rej,) = payloads(out, OrderRejected)
        assert word in rej.reason, (word, rej.reason)
        assert out[0].topic == REJECTIONS


def test_redelivered_order_is_accepted_once_silently():
    """The same order delivered twice neither rejects nor doubles in the book."""
    svc = build_service(clock=Clock())
    o = order("s1", "u1", "sell", "1", "10")
    assert send(svc, ORDERS, o) == []
    assert send(svc, ORDERS, o) == []
    assert len(svc.market.book.orders(SLOT)) == 1


def test_cancel_before_gate_removes_order_and_after_gate_is_rejected():
    """Cancelling before the gate removes the order; after the gate it is rejected and the order stands."""
    clock = Clock()
    svc = build_service(clock=clock)
    send(svc, ORDERS, order("s1", "u1", "sell", "1", "10"))
    send(svc, ORDERS, order("s2", "u2", "sell", "1", "10"))
    assert send(svc, ORDERS, EnergyOrderCancelled(order_id="s1", participant="u1", slot=SLOT)) == []
    assert [o.order_id for o in svc.market.book.orders(SLOT)] == ["s2"]
    clock.now = SLOT - timedelta(minutes=4)
    out = send(svc, ORDERS, EnergyOrderCancelled(order_id="s2", participant="u2", slot=SLOT))
    assert "gate closed" in payloads(out, OrderRejected)[0].reason


def test_timer_closes_gates_once():
    """The timer emits GateClosed for each slot whose gate time has passed, once."""
    clock = Clock(SLOT - timedelta(minutes=20))
    svc = build_service(clock=clock)
    send(svc, ORDERS, order("s1", "u1", "sell", "1", "10"))
    tick = svc.timers[0].tick
    assert [o.payload.slot for o in tick()] == [SLOT - timedelta(minutes=30)]
    clock.now = SLOT - timedelta(minutes=5)
    out = list(tick())
    assert [o.payload.slot for o in out] == [SLOT] and out[0].topic == ORDERS
    assert list(tick()) == []


def test_dispatch_follows_contracts_for_known_storage():
    """A battery owner who sold gets a discharge set-point; participants without storage get none."""
    registry = {"home": Participant("home", devices=(Device("home-bat", "battery", D("10"), D("4")),)),
                "shop": Participant("shop")}
    svc = build_service(MarketSettings(participants=registry, wheeling_fee=D("0")), Clock())
    send(svc, ORDERS, order("s1", "home", "sell", "1.5", "10"))
    send(svc, ORDERS, order("b1", "shop", "buy", "2", "20"))
    out = send(svc, ORDERS, GateClosed(slot=SLOT))
    (sp,) = payloads(out, DispatchSetpoint)
    assert sp.device == "home-bat" and sp.kwh == D("-1.500") and len(sp.trade_ids) == 1


def test_replaying_the_topic_after_a_restart_rebuilds_the_same_trades():
    """A fresh market fed the same envelopes later (a replay after a restart) clears to the same trades."""
    clock = Clock()
    envelopes = [Envelope.wrap(o, "gateway", occurred_at=NOW) for o in (
        order("s1", "u1", "sell", "2", "8"), order("b1", "u3", "buy", "1.5", "30"))]
    gate = Envelope.wrap(GateClosed(slot=SLOT), "timer", occurred_at=SLOT - timedelta(minutes=5))
    first = build_service(clock=clock)
    for env in [*envelopes, gate]:
        out = list(first.handle(ORDERS, env, env.body()))
    clock.now = SLOT + timedelta(hours=2)  # the replay happens long after the gate closed
    second = build_service(clock=clock)
    for env in [*envelopes, gate]:
        again = list(second.handle(ORDERS, env, env.body()))
    assert out == again and payloads(again, TradeMatched)


order_specs = st.lists(
    st.tuples(st.sampled_from(["buy", "sell"]), st.integers(1, 5000), st.integers(0, 4000),
              st.sampled_from([None, "roof", "mall"]), st.booleans(), st.sampled_from([0, 0, 500])),
    max_size=12)


@settings(max_examples=60, deadline=None)
@given(order_specs, st.sampled_from(["pay-as-clear", "pay-as-bid", "midpoint"]))
def test_trades_respect_every_limit_and_balance(specs, pricing):
    """Through the events: buyers pay at most their limit, sellers get at least their ask, totals add up."""
    svc = build_service(MarketSettings(pricing=pricing, grid_retail_price=D("26.20"), grid_buyback_price=D("7.00"),
                                       line_capacity_kwh={"roof": D("2")}), Clock())
    orders = {}
    for n, (side, wh, sen, site, renewable, bonus) in enumerate(specs):
        o = order(f"o{n}", f"p{n}", side, str(D(wh) / 1000), str(D(sen) / 100), site=site, renewable=renewable,
                  green_premium=D(bonus) / 100)
        orders[o.order_id] = o
        assert send(svc, ORDERS, o) == []
    out = send(svc, ORDERS, GateClosed(slot=SLOT))
    trades = payloads(out, TradeMatched)
    (summary,) = payloads(out, SlotCleared)
    assert summary.kwh == sum((t.kwh for t in trades), D(0)) and summary.trades == len(trades)
    sold: dict[str, D] = {}
    bought: dict[str, D] = {}
    for t in trades:
        assert t.kwh > 0
        if t.sell_order_id:
            s = orders[t.sell_order_id]
            assert t.price >= s.limit_price
            sold[s.order_id] = sold.get(s.order_id, D(0)) + t.kwh
        if t.buy_order_id:
            b = orders[t.buy_order_id]
            cap = b.limit_price + (b.green_premium if t.renewable and b.renewable else 0)
            assert t.price + t.wheeling_fee <= cap
            bought[b.order_id] = bought.get(b.order_id, D(0)) + t.kwh
    assert all(sold[i] <= orders[i].kwh for i in sold) and all(bought[i] <= orders[i].kwh for i in bought)
