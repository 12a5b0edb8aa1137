"""The one place that wires services to real adapters (Kafka, PostgreSQL/SQLite) from settings."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta

from shared.runtime import Service
from shared.settings import Settings

log = logging.getLogger("citymatch.bootstrap")


def market_service(settings: Settings) -> Service:
    from services.market.service import build_service
    from services.market.settings import MarketSettings

    overrides = {"horizon": timedelta(days=settings.market_horizon_days)} if settings.market_horizon_days else {}
    if not settings.market_community:
        return build_service(MarketSettings(**overrides))
    from services.market.adapters.community_yaml import load_community

    community = load_community(settings.market_community)
    return build_service(community.market_settings(admit_unregistered=settings.market_admit_unregistered,
                                                   **overrides))


def settlement_service(settings: Settings) -> Service:
    """The ledger writer; waits for its database at start-up (an outage is transient) and reports it in /ready."""
    from services.settlement.anchor_file import AnchorFile, anchors_path
    from services.settlement.service import build_service
    from services.settlement.store import open_ledger
    from shared.bus.resilience import Faults, retry_blocking

    key = bytes.fromhex(settings.ledger_signing_key) if settings.ledger_signing_key else None
    ledger = retry_blocking("settlement: open the ledger", lambda: open_ledger(settings.database_url, signing_key=key),
                            Faults())
    service = build_service(ledger, anchor_file=AnchorFile(anchors_path(settings)))
    service.readiness["ledger"] = lambda: _ping(ledger.engine)
    return service


def _ping(engine) -> None:
    """One round trip to the database; raises while it is unreachable."""
    with engine.connect() as conn:
        conn.exec_driver_sql("SELECT 1")


def city_simulator_service(settings: Settings) -> Service:
    """The simulated city, live: publishes crowd counts minute by minute and answers incentive offers."""
    from simulator.live import build_simulator_service

    return build_simulator_service(settings.sim_scenario, agents=settings.sim_agents)


def incentives_service(settings: Settings) -> Service:
    """Incentive campaigns: rounds of offers chosen by the optimiser, answers, one-time redemptions."""
    from services.incentives.service import build_service
    from services.incentives.settings import IncentiveSettings

    return build_service(IncentiveSettings(code_secret=settings.incentives_code_secret,
                                           round_seconds=float(settings.incentives_round_seconds)))


def city_monitor_service(settings: Settings) -> Service:
    """The city's eye: anomalies in crowd counts against a seasonal baseline of simulated normal days."""
    from simulator.live import baselines_from_simulation, build_monitor_service

    return build_monitor_service(baselines_from_simulation())


def mobility_service(settings: Settings) -> Service:
    """Ride dispatch on the Ebina drive network (travel times by hour of day)."""
    from services.mobility.service import build_service, scaled_clock
    from services.mobility.settings import MobilitySettings
    from shared.roads import load_drive_network

    scale = max(1, settings.mobility_time_scale)
    # Re-plan once a simulated minute, but not more often than every two seconds of wall time.
    tuned = MobilitySettings(reopt_interval_s=max(2.0, 60.0 / scale))
    return build_service(load_drive_network(), tuned, clock=scaled_clock(scale))


def logistics_service(settings: Settings) -> Service:
    """Parcel rounds from the shopping-centre depots, re-planned as parcels arrive."""
    from services.logistics.service import build_service
    from shared.roads import load_drive_network

    return build_service(load_drive_network())


def charging_service(settings: Settings) -> Service:
    from services.charging.bootstrap import charging_service as build_charging

    return build_charging(settings)


SERVICES: dict[str, Callable[[Settings], Service]] = {
    "market": market_service,
    "settlement": settlement_service,
    "city-sim": city_simulator_service,
    "city-monitor": city_monitor_service,
    "incentives": incentives_service,
    "mobility": mobility_service,
    "logistics": logistics_service,
    "charging": charging_service,
}


def build(name: str, settings: Settings) -> Service:
    try:
        factory = SERVICES[name]
    except KeyError:
        raise SystemExit(f"unknown service {name!r}; choose one of: {', '.join(SERVICES)}, gateway") from None
    return factory(settings)


def gateway_app(settings: Settings):
    """The FastAPI app over Kafka and the ledger database (what `python -m services gateway` serves)."""
    from services.gateway.app import create_app
    from services.gateway.cars import KafkaCarFeed
    from services.gateway.offers import KafkaOfferFeed
    from services.gateway.publisher import KafkaPublisher
    from services.gateway.rejections import KafkaRejectionFeed
    from services.settlement.views import open_reader

    ledger = open_reader(settings.database_url, check=False)  # read-only; not ready until the ledger answers
    publisher = KafkaPublisher(settings.kafka_bootstrap)
    accounts = gateway_accounts(settings)

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

    def market_check():
        from services.settlement.adapters.market_trades import check_against_market

        return check_against_market(settings.database_url, settings.kafka_bootstrap)

    feed = KafkaRejectionFeed(settings.kafka_bootstrap).start()
    offers = KafkaOfferFeed(settings.kafka_bootstrap).start()
    cars = KafkaCarFeed(settings.kafka_bootstrap).start()
    return create_app(settings, publisher, ledger, readiness=readiness, rejections=feed, market_check=market_check,
                      accounts=accounts, offers=offers, cars=cars)


def gateway_accounts(settings: Settings):
    """The accounts the gateway signs people in with (PostgreSQL beside the ledger, or SQLite on the embedded
    default), migrated on first use so a gateway starts while its database is down."""
    from services.gateway.accounts.service import Accounts
    from services.gateway.accounts.store import open_store

    return Accounts(open_store(settings.accounts_url(), migrate_now=False), settings.token_secret,
                    access_ttl=timedelta(minutes=settings.access_token_minutes),
                    refresh_ttl=timedelta(days=settings.refresh_token_days))
