"""Builds the gateway: from the ports it is handed (tests, the demo build it over the in-process bus), or
over Kafka and the accounts' database from settings. The ledger's read side and the check against the
market's trades belong to the settlement service; the composition root (``services/bootstrap.py``) opens
them and hands them over, with the market's order horizon."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from fastapi import FastAPI

from services.gateway.accounts.service import Accounts
from services.gateway.anomalies import AnomalyReader
from services.gateway.campaign_feed import CampaignReader
from services.gateway.cars import CarReader
from services.gateway.city_live import ChargerSpec, LiveReader
from services.gateway.dead_letters import DeadLetterReader
from services.gateway.deps import LedgerViews
from services.gateway.market_slots import MarketReader
from services.gateway.offers import OfferReader
from services.gateway.publisher import Publisher
from services.gateway.rejections import RejectionReader
from services.gateway.rides import RideReader
from services.gateway.slots import DEFAULT_HORIZON
from shared.bus.inprocess import InProcessBus
from shared.settings import Settings

log = logging.getLogger("citymatch.gateway")


def build_gateway(settings: Settings, *, publisher: Publisher, ledger: LedgerViews,
                  readiness: Callable[[], dict[str, bool]] | None = None,
                  rejections: RejectionReader | None = None, market_check: Callable[[], Any] | None = None,
                  accounts: Accounts | None = None, order_horizon: timedelta = DEFAULT_HORIZON,
                  offers: OfferReader | None = None, campaigns: CampaignReader | None = None,
                  campaign_check: Callable[[], Any] | None = None, cars: CarReader | None = None,
                  anomalies: AnomalyReader | None = None, live: LiveReader | None = None,
                  market: MarketReader | None = None, dead_letters: DeadLetterReader | None = None,
                  rides: RideReader | None = None) -> FastAPI:
    """The FastAPI app over the given ports (``accounts``: an in-memory store when none is given)."""
    from services.gateway.app import create_app

    return create_app(settings, publisher, ledger, readiness=readiness, rejections=rejections,
                      market_check=market_check, accounts=accounts, order_horizon=order_horizon, offers=offers,
                      campaigns=campaigns, campaign_check=campaign_check, cars=cars, anomalies=anomalies,
                      live=live, market=market, dead_letters=dead_letters, rides=rides)


def build_bus_gateway(settings: Settings, bus: InProcessBus, *, ledger: LedgerViews,
                      publisher: Publisher | None = None, accounts: Accounts | None = None,
                      readiness: Callable[[], dict[str, bool]] | None = None,
                      order_horizon: timedelta = DEFAULT_HORIZON,
                      chargers: tuple[ChargerSpec, ...] = ()) -> FastAPI:
    """The gateway over an in-process bus with every read model (rejections, offers, campaigns, cars,
    anomalies, the live map, market slots, dead letters, rides) caught up from the bus's log when read;
    ``publisher``: a :class:`BusPublisher` by default; ``chargers``: the chargers and their power (live map)."""
    from services.gateway.anomalies import BusAnomalies
    from services.gateway.campaign_feed import BusCampaigns
    from services.gateway.cars import BusCars
    from services.gateway.city_live import BusLive
    from services.gateway.dead_letters import BusDeadLetters
    from services.gateway.market_slots import BusMarket
    from services.gateway.offers import BusOffers
    from services.gateway.publisher import BusPublisher
    from services.gateway.rejections import BusRejections
    from services.gateway.rides import BusRides

    return build_gateway(settings, publisher=publisher or BusPublisher(bus), ledger=ledger, readiness=readiness,
                         rejections=BusRejections(bus), accounts=accounts, order_horizon=order_horizon,
                         offers=BusOffers(bus), campaigns=BusCampaigns(bus), cars=BusCars(bus),
                         anomalies=BusAnomalies(bus), live=BusLive(bus, chargers), market=BusMarket(bus),
                         dead_letters=BusDeadLetters(bus), rides=BusRides(bus))


def open_accounts(settings: Settings) -> Accounts:
    """The accounts the gateway signs people in with (PostgreSQL beside the ledger, or SQLite on the embedded
    default), migrated on first use so a gateway starts while its database is down."""
    from services.gateway.accounts.store import open_store

    return Accounts(open_store(settings.accounts_url(), migrate_now=False), settings.token_secret,
                    access_ttl=timedelta(minutes=settings.access_token_minutes),
                    refresh_ttl=timedelta(days=settings.refresh_token_days))


def open_gateway(settings: Settings, *, ledger: Any, market_check: Callable[[], Any] | None = None,
                 campaign_check: Callable[[], Any] | None = None,
                 order_horizon: timedelta = DEFAULT_HORIZON, chargers: tuple[ChargerSpec, ...] = ()) -> FastAPI:
    """The gateway over Kafka (publisher, rejection and offer feeds) and the accounts' database; ``ledger`` is
    the ledger's read side (it has ``ping``), not ready until it answers. ``chargers``: the charging service's
    chargers and their power, for the live map."""
    from services.gateway.anomalies import KafkaAnomalyFeed
    from services.gateway.campaign_feed import KafkaCampaignFeed
    from services.gateway.cars import KafkaCarFeed
    from services.gateway.city_live import KafkaLiveFeed
    from services.gateway.dead_letters import KafkaDeadLetterFeed
    from services.gateway.market_slots import KafkaMarketFeed
    from services.gateway.offers import OfferBook
    from services.gateway.publisher import KafkaPublisher
    from services.gateway.rejections import KafkaRejectionFeed
    from services.gateway.rides import KafkaRideFeed
    from services.gateway.topic_feed import FeedHub
    from shared.contracts.energy import ORDERS
    from shared.contracts.ledger import RETIREMENTS
    from shared.contracts.mobility import COOWNED

    # Partitions learnt at start for the busiest topics and for the co-owned bookings, whose members wait for
    # the answer on the page.
    publisher = KafkaPublisher(settings.kafka_bootstrap, topics=(ORDERS, RETIREMENTS, COOWNED))
    accounts = open_accounts(settings)

    def readiness() -> dict[str, bool]:
        checks = {}
        for name, ping in (("ledger", ledger.ping), ("accounts", accounts.store.ping)):
            try:
                ping()
                checks[name] = True
            except Exception:  # the readiness probe reports, it does not crash
                log.exception("%s not reachable", name)
                checks[name] = False
        return checks

    feed = KafkaRejectionFeed(settings.kafka_bootstrap)
    offers = OfferBook()  # fed by the campaign feed: one reader of the campaign topics
    campaigns = KafkaCampaignFeed(settings.kafka_bootstrap, also=(offers.apply,))
    cars = KafkaCarFeed(settings.kafka_bootstrap)
    anomalies = KafkaAnomalyFeed(settings.kafka_bootstrap)
    rides = KafkaRideFeed(settings.kafka_bootstrap)
    live = KafkaLiveFeed(settings.kafka_bootstrap, chargers)
    market = KafkaMarketFeed(settings.kafka_bootstrap)
    dead_letters = KafkaDeadLetterFeed(settings.kafka_bootstrap)
    # One consumer and one thread for every read model (closing any feed closes it; the lifespan closes all).
    FeedHub(settings.kafka_bootstrap, [feed, campaigns, cars, anomalies, rides, live, market, dead_letters]).start()
    return build_gateway(settings, publisher=publisher, ledger=ledger, readiness=readiness, rejections=feed,
                         market_check=market_check, accounts=accounts, order_horizon=order_horizon, offers=offers,
                         campaigns=campaigns, campaign_check=campaign_check, cars=cars, anomalies=anomalies,
                         live=live, market=market, dead_letters=dead_letters,
                         rides=rides)
