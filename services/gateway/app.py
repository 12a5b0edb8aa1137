"""The gateway: HTTP in front of the bus. Routes only translate: parse, authenticate, publish, read back.

``create_app`` is the gateway's composition: it takes the ports (publisher, ledger views, rejection feed)
already built (by ``services.gateway.bootstrap``, the demo or a test), mounts one router per area
(:mod:`services.gateway.routers`), counts requests by route template, limits body sizes, serves its API
docs from packaged assets (no CDN), puts secure headers on every answer, and closes what it was given
when the server stops.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

from fastapi import FastAPI

from services.gateway import docs, errors, security
from services.gateway.accounts.service import Accounts
from services.gateway.anomalies import AnomalyReader
from services.gateway.campaign_feed import CampaignReader
from services.gateway.cars import CarReader
from services.gateway.city_live import LiveReader
from services.gateway.dead_letters import DeadLetterReader
from services.gateway.deps import Gateway, LedgerViews
from services.gateway.market_slots import MarketReader
from services.gateway.metrics import HttpMetrics, MetricsMiddleware
from services.gateway.offers import OfferReader
from services.gateway.publisher import Publisher
from services.gateway.rejections import RejectionReader
from services.gateway.rides import RideReader
from services.gateway.routers import ROUTERS
from services.gateway.sim_runs import SimRunQueue
from services.gateway.slots import DEFAULT_HORIZON
from shared.settings import Settings

log = logging.getLogger("citymatch.gateway")
MAX_BODY_BYTES = 64 * 1024


def create_app(settings: Settings, publisher: Publisher, ledger: LedgerViews,
               readiness: Callable[[], dict[str, bool]] | None = None,
               rejections: RejectionReader | None = None,
               market_check: Callable[[], Any] | None = None, accounts: Accounts | None = None,
               order_horizon: timedelta = DEFAULT_HORIZON, offers: OfferReader | None = None,
               campaigns: CampaignReader | None = None, campaign_check: Callable[[], Any] | None = None,
               cars: CarReader | None = None, anomalies: AnomalyReader | None = None,
               sim_runs: SimRunQueue | None = None,
               live: LiveReader | None = None, market: MarketReader | None = None,
               dead_letters: DeadLetterReader | None = None,
               rides: RideReader | None = None) -> FastAPI:
    """``accounts`` defaults to an in-memory store (tests, the demo); bootstrap passes the database's.
    ``order_horizon``: how far ahead the market takes orders (beyond it the gateway refuses at once).
    ``campaigns``: the campaign topics' read model (dashboard); ``campaign_check``: campaign books against the
    ledger's campaign accounts (``services.campaign_audit``). ``sim_runs``: the planners' simulator runs
    (opened from ``CITYMATCH_PLANNER_*`` on first use when not given)."""
    gateway = Gateway(settings, publisher, ledger, readiness, market_check=market_check,
                      accounts=accounts or default_accounts(settings), order_horizon=order_horizon,
                      campaign_check=campaign_check)
    if rejections is not None:
        gateway.rejections = rejections
    if offers is not None:
        gateway.offers = offers
    if campaigns is not None:
        gateway.campaigns = campaigns
    if cars is not None:
        gateway.cars = cars
    if anomalies is not None:
        gateway.anomalies = anomalies
    gateway.sim_runs = sim_runs
    for name, port in (("live", live), ("market", market), ("dead_letters", dead_letters)):
        if port is not None:  # the operators' live map, market per slot and dead letters
            setattr(gateway, name, port)
    if rides is not None:
        gateway.rides = rides

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await gateway.publisher.start()
        yield
        await gateway.publisher.stop()
        gateway.close()

    app = FastAPI(title="citymatch gateway", version="0.2.0", lifespan=lifespan, docs_url=None, redoc_url=None,
                  description="Orders, trades and operator controls for the Ebina station-area platform. "
                              "海老名駅周辺の電力取引・台帳・運用の API。")
    app.state.gateway = gateway
    app.state.http_metrics = HttpMetrics()
    app.add_middleware(errors.CatchAll)
    app.add_middleware(errors.BodyLimit, max_bytes=MAX_BODY_BYTES)
    app.add_middleware(MetricsMiddleware, metrics=app.state.http_metrics)
    app.add_middleware(security.SecureHeaders)
    errors.install(app)
    for router in ROUTERS:
        app.include_router(router)
    docs.mount(app)
    return app


def default_accounts(settings: Settings) -> Accounts:
    """Accounts in an in-memory SQLite database: they last as long as the app (tests, the demo)."""
    from services.gateway.accounts.store import open_store

    return Accounts(open_store("sqlite://"), settings.token_secret,
                    access_ttl=timedelta(minutes=settings.access_token_minutes),
                    refresh_ttl=timedelta(days=settings.refresh_token_days))
