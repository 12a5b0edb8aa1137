import pytest

from shared.auth import AuthError, issue_token, participant_from_token
from shared.errors import ConfigError
from shared.settings import Settings


def test_token_names_its_participant():
    """A token issued for a participant verifies back to that participant."""
    assert participant_from_token("s3cret", issue_token("s3cret", "home-7")) == "home-7"


@pytest.mark.parametrize("token", ["home-7.AAAA", "nodot", "", ".abc"])
def test_forged_or_malformed_tokens_fail(token):
    """A token not signed with the platform secret is refused."""
    with pytest.raises(AuthError):
        participant_from_token("s3cret", token)


def test_token_of_another_secret_fails():
    """A token signed with another secret does not verify."""
    with pytest.raises(AuthError):
        participant_from_token("s3cret", issue_token("other", "home-7"))


def test_production_refuses_default_secret():
    """Outside development the default token secret is refused at start-up."""
    with pytest.raises(ConfigError, match="TOKEN_SECRET"):
        Settings.from_env({"CITYMATCH_ENVIRONMENT": "production"})


def test_env_overrides_and_aliases():
    """CITYMATCH_* variables and the KAFKA_BOOTSTRAP / DATABASE_URL aliases configure the settings."""
    s = Settings.from_env({"KAFKA_BOOTSTRAP": "h:1", "DATABASE_URL": "sqlite://", "CITYMATCH_GATEWAY_PORT": "9"})
    assert (s.kafka_bootstrap, s.database_url, s.gateway_port) == ("h:1", "sqlite://", 9)


def test_bool_and_int_settings_are_parsed_or_refused():
    """Boolean and integer settings accept the usual spellings and refuse anything else with a clear error."""
    s = Settings.from_env({"CITYMATCH_MARKET_ADMIT_UNREGISTERED": "true", "CITYMATCH_MARKET_HORIZON_DAYS": "7"})
    assert s.market_admit_unregistered is True and s.market_horizon_days == 7
    assert Settings.from_env({"CITYMATCH_MARKET_ADMIT_UNREGISTERED": "no"}).market_admit_unregistered is False
    with pytest.raises(ConfigError, match="MARKET_ADMIT_UNREGISTERED must be true or false"):
        Settings.from_env({"CITYMATCH_MARKET_ADMIT_UNREGISTERED": "maybe"})
    with pytest.raises(ConfigError, match="GATEWAY_PORT must be an integer"):
        Settings.from_env({"CITYMATCH_GATEWAY_PORT": "eighty"})
