"""The platform's transport and secrets, read from ``CITYMATCH_*`` environment variables (pydantic-settings).

Only what several processes must agree on lives here: where Kafka and the databases are, the secrets that
sign tokens and ledger entries, the ports and folders a process uses, and the life of sign-in tokens. Each
service's own knobs live in its ``config.py`` (``services/<name>/config.py``, ``simulator/config.py``), a
subclass of :class:`EnvConfig` with a prefix of its own (``CITYMATCH_MARKET_``, ``CITYMATCH_SIM_``, ...).

Built by hand (``Settings(token_secret=...)``: tests, the demo) a configuration holds its defaults and what
it is given and reads no environment; ``from_env()`` reads the environment (or a mapping). A value that does
not parse, or breaks a rule, is a :class:`~shared.errors.ConfigError` naming the variable and the rule.
Outside development (``CITYMATCH_ENVIRONMENT`` test or production) the default token secret is refused, so a
forgotten setting cannot ship a guessable credential; production also refuses the default operator token and
needs a ledger signing key.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal, Self

from annotated_types import Ge, Le
from pydantic import AliasChoices, Field, ValidationError, model_validator
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, EnvSettingsSource, PydanticBaseSettingsSource, SettingsConfigDict

from shared.errors import ConfigError

DEV_SECRET = "dev-only-secret-change-me"
DEV_OPERATOR_TOKEN = "operator-dev-token"
REPO_ROOT = Path(__file__).resolve().parent.parent
Environment = Literal["development", "test", "production"]


class _MappingSource(EnvSettingsSource):
    """pydantic-settings' environment source over a given mapping (``os.environ`` or a test's dict)."""

    def __init__(self, settings_cls: type[BaseSettings], env: Mapping[str, str]) -> None:
        self._env = env
        super().__init__(settings_cls)

    def _load_env_vars(self) -> Mapping[str, str | None]:
        return {k if self.case_sensitive else k.lower(): v for k, v in self._env.items()
                if not (self.env_ignore_empty and v == "")}


class EnvConfig(BaseSettings):
    """Base of every configuration read from the environment: frozen, unknown names refused, an empty
    variable counts as unset (its default), errors raised as :class:`ConfigError` naming the variable."""

    model_config = SettingsConfigDict(env_prefix="CITYMATCH_", frozen=True, extra="forbid", populate_by_name=True,
                                      env_ignore_empty=True)

    @classmethod
    def settings_customise_sources(cls, settings_cls: type[BaseSettings], init_settings: PydanticBaseSettingsSource,
                                   env_settings: PydanticBaseSettingsSource,
                                   dotenv_settings: PydanticBaseSettingsSource,
                                   file_secret_settings: PydanticBaseSettingsSource,
                                   ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings,)  # built by hand: defaults and arguments only; from_env adds the environment

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Self:
        """Read from ``env`` (default ``os.environ``); a bad value is a ConfigError naming its variable."""
        env = os.environ if env is None else env
        try:
            return cls(_build_sources=((_MappingSource(cls, env),), {}))
        except ValidationError as exc:
            raise ConfigError("; ".join(_describe(cls, error, env) for error in exc.errors())) from None

    @classmethod
    def variable(cls, name: str, env: Mapping[str, str] | None = None) -> str:
        """The environment variable of field ``name`` (of its aliases, the one set in ``env``, else the first)."""
        field = cls.model_fields[name]
        if isinstance(field.validation_alias, AliasChoices):
            names = [str(c) for c in field.validation_alias.choices]
            lowered = {k.lower() for k in (env or {})}
            return next((n for n in names if n.lower() in lowered), names[0])
        return f"{cls.model_config.get('env_prefix', '')}{name}".upper()


def _describe(cls: type[EnvConfig], error: Any, env: Mapping[str, str]) -> str:
    """'CITYMATCH_MARKET_HORIZON_DAYS must be an integer, not 'abc'' from one pydantic error."""
    loc = error.get("loc") or ()
    name = str(loc[0]) if loc else ""
    if name not in cls.model_fields:
        name = next((n for n, f in cls.model_fields.items() if isinstance(f.validation_alias, AliasChoices)
                     and name in [str(c) for c in f.validation_alias.choices]), name)
    if name not in cls.model_fields:
        return f"{cls.__name__}: {error.get('msg')}"
    variable = cls.variable(name, env)
    value = error.get("input")
    kind = error.get("type", "")
    rules = {"int_parsing": "must be an integer", "int_from_float": "must be an integer",
             "float_parsing": "must be a number", "bool_parsing": "must be true or false",
             "string_too_short": f"must be at least {error.get('ctx', {}).get('min_length')} characters long"}
    if kind == "literal_error":
        rule = f"must be one of {error.get('ctx', {}).get('expected')}"
    elif kind in ("greater_than_equal", "less_than_equal", "greater_than", "less_than"):
        rule = _range_rule(cls.model_fields[name], error)
    else:
        rule = rules.get(kind, f"is not valid ({error.get('msg')})")
    shown = repr(value) if cls.model_fields[name].repr else "the value given"  # a secret is never echoed
    return f"{variable} {rule}, not {shown}"


def _range_rule(field: FieldInfo, error: Any) -> str:
    low = next((m.ge for m in field.metadata if isinstance(m, Ge)), None)
    high = next((m.le for m in field.metadata if isinstance(m, Le)), None)
    if low is not None and high is not None:
        return f"must be between {low} and {high}"
    ctx = error.get("ctx", {})
    words = {"greater_than_equal": ("at least", "ge"), "less_than_equal": ("at most", "le"),
             "greater_than": ("more than", "gt"), "less_than": ("less than", "lt")}
    word, key = words[error["type"]]
    return f"must be {word} {ctx.get(key)}"


class Settings(EnvConfig):
    """Transport and secrets, shared by every process (variables ``CITYMATCH_<FIELD>``)."""

    environment: Environment = "development"
    kafka_bootstrap: str = Field("127.0.0.1:9092", validation_alias=AliasChoices(
        "CITYMATCH_KAFKA_BOOTSTRAP", "KAFKA_BOOTSTRAP"))
    database_url: str = Field(f"sqlite:///{REPO_ROOT / '.run' / 'ledger.sqlite'}", validation_alias=AliasChoices(
        "CITYMATCH_DATABASE_URL", "DATABASE_URL"))
    # Secrets are left out of the settings' repr and of error messages.
    token_secret: str = Field(DEV_SECRET, repr=False)
    operator_token: str = Field(DEV_OPERATOR_TOKEN, repr=False)
    # Hex Ed25519 private key of the settlement service (`citymatch ledger keygen`); empty = a throwaway key.
    ledger_signing_key: str = Field("", repr=False)
    # The public, append-only anchors file (JSON lines) the settlement service writes and the gateway serves;
    # empty = <data_dir>/ledger-anchors.jsonl.
    ledger_anchors_file: str = ""
    # The accounts' database (sign-in, refresh tokens); empty = the ledger's PostgreSQL database, or on SQLite
    # accounts.sqlite beside the ledger's file.
    accounts_database_url: str = ""
    # Lifetimes of what sign-in hands out: the cm1 access token (minutes) and the refresh token (days).
    access_token_minutes: int = Field(15, ge=1, le=24 * 60)
    refresh_token_days: int = Field(30, ge=1, le=90)
    gateway_host: str = "127.0.0.1"
    gateway_port: int = Field(8000, ge=0, le=65535)
    # Each worker's health, readiness and metrics port.
    web_port: int = Field(6066, ge=0, le=65535)
    data_dir: str = str(REPO_ROOT / ".run")
    log_level: str = "INFO"

    @model_validator(mode="after")
    def _refuse_dev_secrets(self) -> Self:
        if self.environment != "development" and self.token_secret == DEV_SECRET:
            raise ConfigError(f"CITYMATCH_TOKEN_SECRET must be set to a real secret outside development "
                              f"(environment is {self.environment}); it signs every access token")
        if self.environment == "production" and self.operator_token == DEV_OPERATOR_TOKEN:
            raise ConfigError("CITYMATCH_OPERATOR_TOKEN must be set to a real secret in production")
        if self.environment == "production" and not self.ledger_signing_key:
            raise ConfigError("CITYMATCH_LEDGER_SIGNING_KEY must be set in production (citymatch ledger keygen)")
        return self

    def anchors_file(self) -> Path:
        """Where the public anchors file lives: ``ledger_anchors_file``, or ``ledger-anchors.jsonl`` in the data
        folder (the settlement service appends to it, the gateway serves it)."""
        return Path(self.ledger_anchors_file or Path(self.data_dir) / "ledger-anchors.jsonl")

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


def refuse_in_production(settings: Settings, value: str, default: str, variable: str) -> None:
    """A service's own secret left at its development default stops a production start (naming the variable)."""
    if settings.environment == "production" and value == default:
        raise ConfigError(f"{variable} must be set to a real secret in production")
