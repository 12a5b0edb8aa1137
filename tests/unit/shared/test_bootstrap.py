"""Every registered service builds through the bootstrap of its own folder, over fakes (no broker, no
database), and each service's configuration refuses a bad value naming its variable."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from datetime import UTC, datetime

import numpy as np
import pytest

from services.bootstrap import SERVICES, bootstrap, build
from shared.contracts.catalogue import CATALOGUE
from shared.errors import ConfigError
from shared.runtime import Service
from shared.settings import EnvConfig, Settings

NOW = datetime(2026, 5, 20, 3, 0, tzinfo=UTC)


def clock() -> datetime:
    return NOW


def _market(tmp_path) -> Service:
    from services.market.adapters.community_yaml import load_community
    from services.market.bootstrap import build_market
    from services.market.config import MarketConfig

    return build_market(MarketConfig(admit_unregistered=True, horizon_days=3), community=load_community("ebina"),
                        clock=clock)


def _settlement(tmp_path) -> Service:
    from services.settlement.anchor_file import AnchorFile
    from services.settlement.bootstrap import build_settlement
    from services.settlement.config import SettlementConfig
    from services.settlement.memory import InMemoryLedger

    return build_settlement(InMemoryLedger(), anchor_file=AnchorFile(tmp_path / "anchors.jsonl"),
                            config=SettlementConfig(anchor_interval_seconds=1))


def _city_sim(tmp_path) -> Service:
    from simulator.bootstrap import build_city_sim
    from simulator.config import CitySimConfig

    return build_city_sim(CitySimConfig(agents=300))


def _city_monitor(tmp_path) -> Service:
    from simulator.bootstrap import build_city_monitor
    from simulator.monitor import SeasonalBaseline

    days = np.random.default_rng(0).poisson(20, size=(3, 24 * 60))
    return build_city_monitor({"east-exit": SeasonalBaseline.fit(days)})


def _incentives(tmp_path) -> Service:
    from services.incentives.bootstrap import build_incentives
    from services.incentives.config import IncentivesConfig

    return build_incentives(IncentivesConfig(round_seconds=2, code_secret="unit-test-code-secret"), clock=clock)


def _mobility(tmp_path) -> Service:
    from services.mobility.bootstrap import build_mobility
    from services.mobility.config import MobilityConfig
    from shared.roads import load_drive_network

    return build_mobility(load_drive_network(), MobilityConfig(time_scale=60), clock=clock)


def _logistics(tmp_path) -> Service:
    from services.logistics.bootstrap import build_logistics
    from shared.roads import load_drive_network

    return build_logistics(load_drive_network(), clock=clock)


def _charging(tmp_path) -> Service:
    from services.charging.bootstrap import build_charging

    return build_charging(clock=clock)


WITH_FAKES: dict[str, Callable[..., Service]] = {
    "market": _market, "settlement": _settlement, "city-sim": _city_sim, "city-monitor": _city_monitor,
    "incentives": _incentives, "mobility": _mobility, "logistics": _logistics, "charging": _charging,
}


def test_every_registered_service_has_a_build_with_fakes_here():
    """A service added to the registry is added here too, so it is shown to build without a broker."""
    assert set(WITH_FAKES) == set(SERVICES)


@pytest.mark.parametrize("name", sorted(SERVICES))
def test_every_registered_service_builds_through_its_bootstrap_with_fakes(name, tmp_path):
    """The registry points into the service's own folder, and its bootstrap builds a Service whose dispatch
    table names catalogue topics only."""
    module = SERVICES[name].partition(":")[0]
    assert module.endswith(".bootstrap") and callable(bootstrap(name))
    service = WITH_FAKES[name](tmp_path)
    assert isinstance(service, Service)
    assert all(topic.name in CATALOGUE for topic in service.handlers)
    assert service.handlers or service.timers


def test_an_unknown_service_is_refused_with_the_names_it_knows():
    with pytest.raises(SystemExit, match="unknown service 'nope'; choose one of: market, settlement"):
        build("nope", Settings())


@pytest.mark.parametrize(("name", "variable", "value", "rule"), [
    ("market", "CITYMATCH_MARKET_HORIZON_DAYS", "abc", "must be an integer, not 'abc'"),
    ("market", "CITYMATCH_MARKET_ADMIT_UNREGISTERED", "maybe", "must be true or false, not 'maybe'"),
    ("settlement", "CITYMATCH_SETTLEMENT_ANCHOR_INTERVAL_SECONDS", "0", "must be more than 0"),
    ("incentives", "CITYMATCH_INCENTIVES_ROUND_SECONDS", "soon", "must be a number, not 'soon'"),
    ("incentives", "CITYMATCH_INCENTIVES_CODE_SECRET", "short", "must be at least 16 characters long"),
    ("mobility", "CITYMATCH_MOBILITY_TIME_SCALE", "0", "must be at least 1, not '0'"),
    ("charging", "CITYMATCH_CHARGING_OCPP_PORT", "99999", "must be between 0 and 65535, not '99999'"),
    ("city-sim", "CITYMATCH_SIM_AGENTS", "many", "must be an integer, not 'many'"),
    ("city-monitor", "CITYMATCH_MONITOR_THRESHOLD", "-1", "must be more than 0"),
])
def test_a_bad_value_stops_the_bootstrap_naming_the_variable(name, variable, value, rule, monkeypatch):
    """Reading the environment is the bootstrap's first step: nothing is opened before a bad value is refused."""
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigError, match=f"^{variable} {rule}"):
        build(name, Settings())


def test_a_secret_is_never_echoed_in_an_error(monkeypatch):
    monkeypatch.setenv("CITYMATCH_INCENTIVES_CODE_SECRET", "tiny-secret")
    with pytest.raises(ConfigError) as caught:
        build("incentives", Settings())
    assert "tiny-secret" not in str(caught.value)


def test_production_refuses_the_development_code_secret():
    from services.incentives.bootstrap import open_incentives
    from services.incentives.config import IncentivesConfig

    production = Settings(environment="production", token_secret="t" * 32, operator_token="o" * 32,
                          ledger_signing_key="00" * 32)
    with pytest.raises(ConfigError, match="CITYMATCH_INCENTIVES_CODE_SECRET must be set to a real secret"):
        open_incentives(production, IncentivesConfig())


def test_the_settlement_bootstrap_refuses_a_malformed_signing_key():
    from services.settlement.bootstrap import signing_key

    assert signing_key(Settings()) is None
    assert signing_key(Settings(ledger_signing_key="ab" * 32)) == bytes([0xAB]) * 32
    with pytest.raises(ConfigError, match="CITYMATCH_LEDGER_SIGNING_KEY must be 64 hex digits"):
        signing_key(Settings(ledger_signing_key="not-hex"))


def test_service_configurations_keep_the_variable_names_in_use():
    """The names the README, infra/stack.sh and the end-to-end tests set map onto the services' fields."""
    from services.charging.config import ChargingConfig
    from services.incentives.config import IncentivesConfig
    from services.market.config import MarketConfig
    from services.mobility.config import MobilityConfig
    from simulator.config import CitySimConfig

    market = MarketConfig.from_env({"CITYMATCH_MARKET_COMMUNITY": "higashi_fuji",
                                    "CITYMATCH_MARKET_ADMIT_UNREGISTERED": "true",
                                    "CITYMATCH_MARKET_HORIZON_DAYS": "7"})
    assert (market.community, market.admit_unregistered, market.horizon().days) == ("higashi_fuji", True, 7)
    assert MarketConfig.from_env({}).horizon().days == 2
    incentives = IncentivesConfig.from_env({"CITYMATCH_INCENTIVES_ROUND_SECONDS": "2",
                                            "CITYMATCH_INCENTIVES_CODE_SECRET": "x" * 20})
    assert (incentives.round_seconds, incentives.code_secret) == (2.0, "x" * 20)
    assert CitySimConfig.from_env({"CITYMATCH_SIM_AGENTS": "3000"}).agents == 3000
    assert MobilityConfig.from_env({"CITYMATCH_MOBILITY_TIME_SCALE": "120"}).time_scale == 120
    charging = ChargingConfig.from_env({"CITYMATCH_CHARGING_OCPP_HOST": "0.0.0.0", "CITYMATCH_CHARGING_OCPP_PORT": "1"})
    assert (charging.ocpp_host, charging.ocpp_port) == ("0.0.0.0", 1)


def test_each_service_config_is_an_env_config_with_its_own_prefix():
    """One prefix per configuration, none of them the platform's bare CITYMATCH_ (that is shared.settings)."""
    prefixes = {}
    for module, cls in [("services.market.config", "MarketConfig"), ("services.settlement.config", "SettlementConfig"),
                        ("services.incentives.config", "IncentivesConfig"),
                        ("services.mobility.config", "MobilityConfig"),
                        ("services.logistics.config", "LogisticsConfig"),
                        ("services.charging.config", "ChargingConfig"), ("simulator.config", "CitySimConfig"),
                        ("simulator.config", "CityMonitorConfig")]:
        config = getattr(importlib.import_module(module), cls)
        assert issubclass(config, EnvConfig)
        prefixes[cls] = config.model_config["env_prefix"]
    assert len(set(prefixes.values())) == len(prefixes) and "CITYMATCH_" not in prefixes.values()


def test_python_m_services_says_which_variable_is_bad_in_one_line(monkeypatch, capsys):
    """`python -m services market` with a bad value exits 2 with one line naming it, before anything starts."""
    from services.__main__ import main

    monkeypatch.setenv("CITYMATCH_MARKET_HORIZON_DAYS", "abc")
    assert main(["market"]) == 2
    assert capsys.readouterr().err == "citymatch market: CITYMATCH_MARKET_HORIZON_DAYS must be an integer, not 'abc'\n"
    monkeypatch.delenv("CITYMATCH_MARKET_HORIZON_DAYS")
    monkeypatch.setenv("CITYMATCH_WEB_PORT", "web")
    assert main(["settlement"]) == 2
    assert "CITYMATCH_WEB_PORT must be an integer, not 'web'" in capsys.readouterr().err
