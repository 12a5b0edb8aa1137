"""The API as a contract: schemathesis generates requests for every operation of the OpenAPI document, as an
app user and as the operator, against the gateway over the in-process bus with the real market, settlement
and campaign services; no answer may be a server error, an undocumented status code or content type, or a
body that does not fit its documented schema."""

from __future__ import annotations

import tempfile

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from services.campaign_audit import reconcile_with
from services.gateway.bootstrap import build_gateway
from services.gateway.campaign_feed import BusCampaigns
from services.gateway.publisher import BusPublisher
from services.gateway.rejections import BusRejections
from services.incentives.service import build_service as incentives
from services.market.bootstrap import build_market
from services.settlement.bootstrap import build_settlement
from services.settlement.store import open_ledger
from services.settlement.views import LedgerReader
from shared.bus.inprocess import InProcessBus

from .conftest import SETTINGS, auth

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance,
          response_headers_conformance]
TOKENS = {"app-user": auth("home-1")["Authorization"], "operator": "Bearer op"}


def _app():
    # A file, not "sqlite://": routes read from worker threads, and each would see its own empty in-memory db.
    ledger = open_ledger(f"sqlite:///{tempfile.mkdtemp(prefix='citymatch-contract-')}/ledger.sqlite")
    campaigns = incentives()
    bus = InProcessBus([build_market(), build_settlement(ledger), campaigns])
    app = build_gateway(SETTINGS, publisher=BusPublisher(bus), ledger=LedgerReader(ledger),
                         rejections=BusRejections(bus), campaigns=BusCampaigns(bus),
                         campaign_check=lambda: reconcile_with(campaigns.incentives.books(), ledger))
    app.state.gateway.offer_stream_max_s = 0.3  # each generated request reads the live stream to its end
    return app


schema = schemathesis.openapi.from_asgi("/openapi.json", _app())


@pytest.mark.parametrize("role", sorted(TOKENS))
@schema.parametrize()
@settings(max_examples=15, derandomize=True, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large])
def test_every_operation_keeps_its_contract(case, role):
    """Generated requests (valid and invalid) get documented answers only, never a 5xx."""
    case.call_and_validate(headers={"Authorization": TOKENS[role]}, checks=CHECKS)
