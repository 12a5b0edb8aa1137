"""The gateway's shape: routers per area, a documented response on every route, bounded metric labels, and a
lifespan that closes what the app was given."""

from fastapi.testclient import TestClient

from services.gateway.app import create_app
from services.gateway.publisher import BusPublisher
from services.gateway.routers import ROUTERS
from services.settlement.store import open_ledger
from services.settlement.views import LedgerReader
from shared.auth import issue_token
from shared.bus.inprocess import InProcessBus
from shared.settings import Settings

SETTINGS = Settings(token_secret="unit-secret", operator_token="op")


class _Closing:
    """Wraps a port and records that the app closed it."""

    def __init__(self, inner):
        self.inner, self.closed = inner, False

    def __getattr__(self, name):
        return getattr(self.inner, name)

    def close(self):
        self.closed = True
        if hasattr(self.inner, "close"):
            self.inner.close()


def _app(**ports):
    ledger = ports.get("ledger") or LedgerReader(open_ledger("sqlite://"))
    return create_app(SETTINGS, ports.get("publisher") or BusPublisher(InProcessBus()), ledger,
                      rejections=ports.get("rejections"))


def test_routes_are_grouped_into_one_router_per_area():
    """Energy, ledger, operator and ops each have their own router, and every route comes from one of them."""
    prefixes = {r.prefix for r in ROUTERS}
    assert {"/v1/energy", "/v1/ledger", "/v1/operator", ""} <= prefixes
    from_routers = {route.path for r in ROUTERS for route in r.routes}
    assert set(_app().openapi()["paths"]) == from_routers


def test_every_route_documents_its_success_body():
    """Every operation's success answer names a schema (a response model or a declared content type)."""
    paths = _app().openapi()["paths"]
    missing = []
    for path, ops in paths.items():
        for method, op in ops.items():
            ok = [code for code in op["responses"] if code.startswith("2")]
            assert ok, f"{method} {path} documents no 2xx answer"
            for code in ok:
                content = op["responses"][code].get("content", {})
                if not content or any(not c.get("schema") for c in content.values()):
                    missing.append(f"{method.upper()} {path} {code}")
                elif all(c["schema"] == {} for c in content.values()):
                    missing.append(f"{method.upper()} {path} {code} (empty schema)")
    assert missing == []


def test_metrics_are_labelled_by_route_template_not_raw_path():
    """Requests to many ids count under one template label; unknown paths share one 'unmatched' label."""
    client = TestClient(_app())
    token = {"Authorization": f"Bearer {issue_token('unit-secret', 'home-1')}"}
    for i in range(5):
        client.delete(f"/v1/energy/orders/id-{i}?slot=2099-01-01T00:00:00Z", headers=token)
        client.get(f"/no/such/path/{i}")
    text = client.get("/metrics").text
    assert 'route="/v1/energy/orders/{order_id}"' in text
    assert "id-3" not in text and "/no/such/path" not in text
    assert 'route="unmatched"' in text


def test_lifespan_closes_publisher_feed_and_ledger():
    """Stopping the server closes the producer, the rejection feed's thread and the ledger's engine."""
    from services.gateway.rejections import BusRejections

    bus = InProcessBus()
    publisher = _Closing(BusPublisher(bus))
    ledger = _Closing(LedgerReader(open_ledger("sqlite://")))
    feed = _Closing(BusRejections(bus))
    with TestClient(_app(publisher=publisher, ledger=ledger, rejections=feed)) as client:
        assert client.get("/health").status_code == 200
        assert not (publisher.closed or ledger.closed or feed.closed)
    assert publisher.closed and ledger.closed and feed.closed
