"""Builds the settlement service: over any ``Ledger`` adapter (the in-memory fake in tests, SQLite in the
demo), or over the database the settings name (what ``python -m services settlement`` runs)."""

from __future__ import annotations

from sqlalchemy.engine import Engine

from services.settlement.anchor_file import AnchorFile
from services.settlement.config import SettlementConfig
from services.settlement.ports import Ledger
from shared.errors import ConfigError
from shared.runtime import Service
from shared.settings import Settings


def build_settlement(ledger: Ledger, *, anchor_file: AnchorFile | None = None,
                     config: SettlementConfig | None = None) -> Service:
    """The ledger writer over ``ledger``; with ``anchor_file`` every anchor is also appended to that file."""
    from services.settlement.service import build_service

    config = config or SettlementConfig()
    return build_service(ledger, anchor_interval_s=config.anchor_interval_seconds, anchor_file=anchor_file)


def signing_key(settings: Settings) -> bytes | None:
    """The service's raw Ed25519 key from ``CITYMATCH_LEDGER_SIGNING_KEY`` (``None``: a throwaway key)."""
    if not settings.ledger_signing_key:
        return None
    try:
        key = bytes.fromhex(settings.ledger_signing_key)
    except ValueError:
        key = b""
    if len(key) != 32:
        raise ConfigError("CITYMATCH_LEDGER_SIGNING_KEY must be 64 hex digits (a raw Ed25519 private key; "
                          "citymatch ledger keygen makes one)")
    return key


def open_settlement(settings: Settings, config: SettlementConfig | None = None) -> Service:
    """The ledger writer on the settings' database; waits for it at start-up (an outage is transient) and
    reports it in /ready."""
    from services.settlement.store import open_ledger
    from shared.bus.resilience import Faults, retry_blocking

    config = config or SettlementConfig.from_env()
    key = signing_key(settings)
    ledger = retry_blocking("settlement: open the ledger", lambda: open_ledger(settings.database_url, signing_key=key),
                            Faults())
    service = build_settlement(ledger, anchor_file=AnchorFile(settings.anchors_file()), config=config)
    service.readiness["ledger"] = lambda: _ping(ledger.engine)
    return service


def _ping(engine: Engine) -> None:
    """One round trip to the database; raises while it is unreachable."""
    with engine.connect() as conn:
        conn.exec_driver_sql("SELECT 1")
