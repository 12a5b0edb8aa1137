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


def test_bad_values_are_refused_naming_the_variable_and_the_rule():
    """A value that does not parse or breaks a rule is a ConfigError naming the variable, the rule and the value."""
    with pytest.raises(ConfigError, match="CITYMATCH_GATEWAY_PORT must be an integer, not 'eighty'"):
        Settings.from_env({"CITYMATCH_GATEWAY_PORT": "eighty"})
    with pytest.raises(ConfigError, match="CITYMATCH_GATEWAY_PORT must be between 0 and 65535"):
        Settings.from_env({"CITYMATCH_GATEWAY_PORT": "70000"})
    with pytest.raises(ConfigError, match="CITYMATCH_ENVIRONMENT must be one of 'development', 'test' or 'production'"):
        Settings.from_env({"CITYMATCH_ENVIRONMENT": "prod"})
    with pytest.raises(ConfigError, match="CITYMATCH_ACCESS_TOKEN_MINUTES must be between 1 and 1440"):
        Settings.from_env({"CITYMATCH_ACCESS_TOKEN_MINUTES": "0"})
    with pytest.raises(ConfigError, match="CITYMATCH_REFRESH_TOKEN_DAYS must be between 1 and 90"):
        Settings.from_env({"CITYMATCH_REFRESH_TOKEN_DAYS": "365"})


def test_production_refuses_each_development_secret():
    """Production needs a real token secret, a real operator token and a ledger signing key; each missing one is
    named. Test environments need a real token secret only."""
    real = {"CITYMATCH_ENVIRONMENT": "production", "CITYMATCH_TOKEN_SECRET": "t" * 32,
            "CITYMATCH_OPERATOR_TOKEN": "o" * 32, "CITYMATCH_LEDGER_SIGNING_KEY": "00" * 32}
    assert Settings.from_env(real).environment == "production"
    for missing in ("CITYMATCH_TOKEN_SECRET", "CITYMATCH_OPERATOR_TOKEN", "CITYMATCH_LEDGER_SIGNING_KEY"):
        with pytest.raises(ConfigError, match=missing):
            Settings.from_env({k: v for k, v in real.items() if k != missing})
    test = Settings.from_env({"CITYMATCH_ENVIRONMENT": "test", "CITYMATCH_TOKEN_SECRET": "t" * 32})
    assert test.environment == "test"


def test_the_prefixed_name_wins_over_the_fallback_and_empty_means_unset():
    """CITYMATCH_KAFKA_BOOTSTRAP is read before KAFKA_BOOTSTRAP; an empty variable leaves the default."""
    s = Settings.from_env({"KAFKA_BOOTSTRAP": "h:1", "CITYMATCH_KAFKA_BOOTSTRAP": "h:2", "CITYMATCH_GATEWAY_PORT": ""})
    assert (s.kafka_bootstrap, s.gateway_port) == ("h:2", 8000)


def test_settings_built_by_hand_read_no_environment(monkeypatch):
    """Settings(...) holds its defaults and arguments (tests, the demo); only from_env reads the environment."""
    monkeypatch.setenv("CITYMATCH_GATEWAY_PORT", "9")
    monkeypatch.setenv("CITYMATCH_ENVIRONMENT", "production")
    assert Settings(token_secret="x").gateway_port == 8000
    assert Settings.from_env({"CITYMATCH_GATEWAY_PORT": "9"}).gateway_port == 9


def test_secrets_stay_out_of_the_repr():
    """A settings object printed in a log does not show its secrets."""
    shown = repr(Settings(token_secret="very-secret-value", operator_token="op-secret-value"))
    assert "very-secret-value" not in shown and "op-secret-value" not in shown
