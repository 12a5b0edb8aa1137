"""Run one service: ``python -m services <name>`` for a registered service (market, settlement, charging, ...:
``services/bootstrap.py``), ``gateway`` (HTTP) or ``charger-gateway`` (OCPP). Transport and secrets come from
CITYMATCH_* variables (``shared/settings.py``), each service's own knobs from CITYMATCH_<SERVICE>_* variables
(its ``config.py``); a bad value stops the start with one line naming the variable (exit code 2)."""

from __future__ import annotations

import sys

from shared.errors import ConfigError
from shared.logs import configure, json_logging_config
from shared.settings import Settings


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in {"-h", "--help"}:
        print(__doc__)
        return 0 if argv else 2
    name = argv[0]
    try:
        return _run(name)
    except ConfigError as exc:
        print(f"citymatch {name}: {exc}", file=sys.stderr)
        return 2


def _run(name: str) -> int:
    settings = Settings.from_env()
    if name == "gateway":
        import uvicorn

        from services.bootstrap import gateway_app

        configure(settings.log_level, "gateway")
        uvicorn.run(gateway_app(settings), host=settings.gateway_host, port=settings.gateway_port,
                    log_level=settings.log_level.lower(),
                    log_config=json_logging_config(settings.log_level, "gateway"))
        return 0
    if name == "charger-gateway":
        from services.charging.bootstrap import run_charger_gateway

        configure(settings.log_level, name)
        return run_charger_gateway(settings)
    from services.bootstrap import build
    from shared.bus.faust_app import run_worker

    service = build(name, settings)
    sys.argv = [f"citymatch-{name}", "worker"]
    run_worker(service, settings)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
