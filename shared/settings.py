"""One typed settings object, read from ``CITYMATCH_*`` environment variables.

It refuses to start outside development (``CITYMATCH_ENVIRONMENT`` test or production) with the default
token secret, so a forgotten setting cannot ship a guessable credential.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Literal

from shared.errors import ConfigError

DEV_SECRET = "dev-only-secret-change-me"
REPO_ROOT = Path(__file__).resolve().parent.parent


def _parse(name: str, kind: object, raw: str) -> object:
    if kind == "int":
        try:
            return int(raw)
        except ValueError:
            raise ConfigError(f"CITYMATCH_{name.upper()} must be an integer, not {raw!r}") from None
    if kind == "bool":
        if raw.lower() not in {"1", "true", "yes", "0", "false", "no", ""}:
            raise ConfigError(f"CITYMATCH_{name.upper()} must be true or false, not {raw!r}")
        return raw.lower() in {"1", "true", "yes"}
    return raw


@dataclass(frozen=True)
class Settings:
    environment: Literal["development", "test", "production"] = "development"
    kafka_bootstrap: str = "127.0.0.1:9092"
    database_url: str = f"sqlite:///{REPO_ROOT / '.run' / 'ledger.sqlite'}"
    token_secret: str = DEV_SECRET
    operator_token: str = "operator-dev-token"
    # Hex Ed25519 private key of the settlement service (`citymatch ledger keygen`); empty = a throwaway key.
    ledger_signing_key: str = ""
    # The public, append-only anchors file (JSON lines) the settlement service writes and the gateway serves;
    # empty = <data_dir>/ledger-anchors.jsonl.
    ledger_anchors_file: str = ""
    # The market's community (a shipped name such as "ebina" or "higashi_fuji", or a YAML path); empty = an
    # open market without a participant registry or grid prices.
    market_community: str = ""
    # With a community, still admit app users who are not in its registry.
    market_admit_unregistered: bool = False
    # How far ahead the market takes orders, in days (0 = the market's default of two days).
    market_horizon_days: int = 0
    # The accounts' database (sign-in, refresh tokens); empty = the ledger's PostgreSQL database, or on SQLite
    # accounts.sqlite beside the ledger's file.
    accounts_database_url: str = ""
    # Lifetimes of what sign-in hands out: the cm1 access token (minutes) and the refresh token (days).
    access_token_minutes: int = 15
    refresh_token_days: int = 30
    gateway_host: str = "127.0.0.1"
    gateway_port: int = 8000
    web_port: int = 6066
    data_dir: str = str(REPO_ROOT / ".run")
    log_level: str = "INFO"
    # The scenario the live city simulator replays (a shipped name or a YAML path).
    sim_scenario: str = "ebina_weekday"
    # People the live city simulator simulates (its crowd counts, forecasts and answers to offers).
    sim_agents: int = 20_000
    # The campaign service: seconds between a campaign's rounds, and the key of its redemption codes.
    incentives_round_seconds: int = 300
    incentives_code_secret: str = "dev-only-redemption-secret"
    # Mobility's clock runs this many times faster than the wall clock (1 = real time; more for demos and
    # end-to-end tests, where a 10-minute ride then takes seconds).
    mobility_time_scale: int = 1

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        env = dict(os.environ if env is None else env)
        values: dict[str, object] = {}
        for f in fields(cls):
            raw = env.get(f"CITYMATCH_{f.name.upper()}")
            if raw is None and f.name == "kafka_bootstrap":
                raw = env.get("KAFKA_BOOTSTRAP")
            if raw is None and f.name == "database_url":
                raw = env.get("DATABASE_URL")
            if raw is not None:
                values[f.name] = _parse(f.name, f.type, raw)
        settings = cls(**values)  # type: ignore[arg-type]
        settings.check()
        return settings

    def anchors_file(self) -> Path:
        """Where the public anchors file lives: ``ledger_anchors_file``, or ``ledger-anchors.jsonl`` in the data
        folder (the settlement service appends to it, the gateway serves it)."""
        return Path(self.ledger_anchors_file or Path(self.data_dir) / "ledger-anchors.jsonl")

    def check(self) -> None:
        if self.environment not in ("development", "test", "production"):
            raise ConfigError(
                f"CITYMATCH_ENVIRONMENT must be development, test or production, not {self.environment!r}")
        if self.environment != "development" and self.token_secret == DEV_SECRET:
            raise ConfigError(f"CITYMATCH_TOKEN_SECRET must be set to a real secret outside development "
                              f"(environment is {self.environment}); it signs every access token")
        if not 1 <= self.access_token_minutes <= 24 * 60:
            raise ConfigError("CITYMATCH_ACCESS_TOKEN_MINUTES must be between 1 and 1440")
        if not 1 <= self.refresh_token_days <= 90:
            raise ConfigError("CITYMATCH_REFRESH_TOKEN_DAYS must be between 1 and 90")
        if self.environment == "production" and self.operator_token == "operator-dev-token":
            raise ConfigError("CITYMATCH_OPERATOR_TOKEN must be set to a real secret in production")
        if self.environment == "production" and self.incentives_code_secret == "dev-only-redemption-secret":
            raise ConfigError("CITYMATCH_INCENTIVES_CODE_SECRET must be set to a real secret in production")
        if self.environment == "production" and not self.ledger_signing_key:
            raise ConfigError("CITYMATCH_LEDGER_SIGNING_KEY must be set in production (citymatch ledger keygen)")

    def accounts_url(self) -> str:
        """Where accounts live: the setting, else the ledger's PostgreSQL database, else a SQLite file beside it."""
        if self.accounts_database_url:
            return self.accounts_database_url
        if not self.database_url.startswith("sqlite"):
            return self.database_url
        ledger_file = self.database_url.split(":///", 1)[1] if ":///" in self.database_url else ""
        if not ledger_file or ledger_file == ":memory:":
            return "sqlite://"
        return f"sqlite:///{Path(ledger_file).parent / 'accounts.sqlite'}"
