"""POST /v1/energy/orders/batch: many of the caller's orders in one request, each placed once."""

from __future__ import annotations

from tests.unit.gateway.conftest import auth, future_slot


def _orders(n: int, **extra):
    return [{"order_id": f"o-{i}", "side": "buy" if i % 2 else "sell", "slot": future_slot(3 + i % 4),
             "kwh": "1.0", "limit_price": "15.00", **extra} for i in range(n)]


def test_a_batch_is_accepted_with_one_answer_per_order(client):
    r = client.post("/v1/energy/orders/batch", json={"orders": _orders(5)}, headers=auth("home-1"))
    assert r.status_code == 202, r.text
    body = r.json()
    assert [o["order_id"] for o in body["orders"]] == [f"o-{i}" for i in range(5)]
    assert {o["participant"] for o in body["orders"]} == {"home-1"}
    assert len({o["event_id"] for o in body["orders"]}) == 5


def test_a_retried_batch_carries_the_same_events(client):
    first = client.post("/v1/energy/orders/batch", json={"orders": _orders(3)}, headers=auth("home-1")).json()
    again = client.post("/v1/energy/orders/batch", json={"orders": _orders(3)}, headers=auth("home-1")).json()
    assert [o["event_id"] for o in first["orders"]] == [o["event_id"] for o in again["orders"]]


def test_a_batch_order_is_the_same_event_as_the_single_order(client):
    [order] = _orders(1)
    single = client.post("/v1/energy/orders", json=order, headers=auth("home-1")).json()
    batch = client.post("/v1/energy/orders/batch", json={"orders": [order]}, headers=auth("home-1")).json()
    assert batch["orders"][0]["event_id"] == single["event_id"]


def test_every_order_needs_an_id_and_ids_are_distinct(client):
    no_id = [{k: v for k, v in o.items() if k != "order_id"} for o in _orders(2)]
    r = client.post("/v1/energy/orders/batch", json={"orders": no_id}, headers=auth("home-1"))
    assert r.status_code == 422
    assert "order_id" in r.text
    twice = _orders(2)
    twice[1]["order_id"] = twice[0]["order_id"]
    r = client.post("/v1/energy/orders/batch", json={"orders": twice}, headers=auth("home-1"))
    assert r.status_code == 422
    assert "appears twice" in r.text and "orders" in r.text


def test_a_slot_out_of_range_names_the_order(client):
    orders = _orders(3)
    orders[2]["slot"] = "2020-01-01T10:00:00+09:00"
    r = client.post("/v1/energy/orders/batch", json={"orders": orders}, headers=auth("home-1"))
    assert r.status_code == 422
    assert "in the past" in r.text
    assert r.json()["detail"][0]["loc"] == ["body", "orders", 2, "slot"]


def test_empty_and_oversized_batches_are_refused(client):
    assert client.post("/v1/energy/orders/batch", json={"orders": []}, headers=auth("home-1")).status_code == 422
    r = client.post("/v1/energy/orders/batch", json={"orders": _orders(201)}, headers=auth("home-1"))
    assert r.status_code == 422


def test_a_batch_needs_a_participant_token(client):
    assert client.post("/v1/energy/orders/batch", json={"orders": _orders(1)}).status_code == 401
    r = client.post("/v1/energy/orders/batch", json={"orders": _orders(1)},
                    headers={"Authorization": "Bearer op"})
    assert r.status_code == 403
