"""The embedded demo: one day of the Ebina station-area community through the real service cores.

No Kafka, no PostgreSQL, no Java: the market and settlement services run on the in-process bus (same topics,
same contracts, same handlers as on Kafka) with a SQLite ledger; the gateway's routes answer an app user's
question over the same bus; the crowd simulator runs a small weekday. Everything lands in ``reports/demo/``.

With ``--serve`` it runs the whole platform live instead, in one process, and serves the app and the
dashboard over it (:mod:`services.demo_serve`).
"""

from __future__ import annotations

import argparse
import csv
import json
import logging
import sys
import time
import warnings
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, PublicFormat

from shared.bus.inprocess import InProcessBus
from shared.contracts.codec import decode
from shared.contracts.energy import ORDERS, REJECTIONS, TRADES, EnergyOrderPlaced, GateClosed, TradeMatched
from shared.settings import REPO_ROOT, Settings
from shared.units import SLOT

log = logging.getLogger("citymatch.demo")
COMMUNITY = REPO_ROOT / "services" / "market" / "communities" / "ebina.yaml"


@dataclass
class SettableClock:
    """The market's clock, moved by the demo to each slot's order time (the demo drives time itself)."""

    now: datetime | None = None

    def __call__(self) -> datetime:
        assert self.now is not None, "clock not set"
        return self.now


class BusClearing:
    """Sends a slot's orders and its gate closure through the market service on the bus; returns the trades."""

    def __init__(self, bus: InProcessBus, clock: SettableClock) -> None:
        self.bus, self.clock = bus, clock
        self.rejected = 0

    def __call__(self, slot: datetime, orders: list[EnergyOrderPlaced], settings) -> list[TradeMatched]:
        self.clock.now = min((o.placed_at for o in orders), default=slot)
        seen_trades = len(self.bus.log[TRADES.name])
        seen_rejections = len(self.bus.log[REJECTIONS.name])
        for order in orders:
            self.bus.publish(ORDERS, order, producer="device-agent", occurred_at=order.placed_at)
        self.bus.publish(ORDERS, GateClosed(slot=slot), producer="market-clock", occurred_at=slot)
        self.bus.run_until_idle()
        self.rejected += len(self.bus.log[REJECTIONS.name]) - seen_rejections
        return [decode(raw)[1] for raw in self.bus.log[TRADES.name][seen_trades:]]


def run_energy_day(out: Path, day: date, weather: float) -> dict:
    from services.market.adapters.community_yaml import load_community
    from services.market.bootstrap import build_market
    from services.market.simulate import market_memory, simulate_day
    from services.settlement.anchor_file import AnchorFile
    from services.settlement.bootstrap import build_settlement
    from services.settlement.export import export_lines
    from services.settlement.store import open_ledger

    community = load_community(COMMUNITY)
    # The demo's settlement service signs with a key of its own; its public half is published beside the
    # ledger, so `citymatch ledger verify --public-key` checks the ledger against it rather than trusting the file.
    key = Ed25519PrivateKey.generate()
    (out / "ledger_public_key.txt").write_text(key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw).hex())
    ledger = open_ledger(f"sqlite:///{out / 'ledger.sqlite'}",
                         signing_key=key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption()))
    clock = SettableClock()
    # The public anchors file of this demo's (fresh) ledger: the roots an outsider keeps (docs/ledger-format.md).
    (out / "ledger-anchors.jsonl").unlink(missing_ok=True)
    anchors = AnchorFile(out / "ledger-anchors.jsonl")
    bus = InProcessBus([build_market(community=community, clock=clock),
                        build_settlement(ledger, anchor_file=anchors)])
    clearing = BusClearing(bus, clock)
    t0 = time.perf_counter()
    # A member whose profile plans its day forecasts from the market's memory: the day before, cleared by the
    # market core directly (not on the bus, so not in the ledger), gives it the book of each half-hour.
    memory = market_memory(community)
    if any(community.profiles[m.profile].plans for m in community.members):
        simulate_day(community, day - timedelta(days=1), weather_factor=weather, memory=memory)
    report = simulate_day(community, day, weather_factor=weather, clear=clearing, memory=memory)
    seconds = time.perf_counter() - t0
    bus.tick()  # settlement's timer anchors the day's slots (Merkle roots on ledger.anchors)
    bus.run_until_idle()
    verify, reconcile = ledger.verify(), ledger.reconcile()
    with (out / "ledger.jsonl").open("w", encoding="utf-8") as export:  # for tools/verify_ledger.py
        export.writelines(line + "\n" for line in export_lines(ledger.entries()))
    app_user, proof = _ask_gateway(bus, ledger, "home-pv-01")
    if proof is not None:
        (out / "proof.json").write_text(json.dumps(proof, indent=2, ensure_ascii=False) + "\n")
    _write_trades(out / "trades.csv", report.trades)
    summary = {
        **report.summary(),
        "participants": len(community.members),
        "trades": len(report.trades),
        "orders_rejected": clearing.rejected,
        "retail_price": str(community.retail_price),
        "buyback_price": str(community.buyback_price),
        "ledger_entries": verify.entries,
        "ledger_verified": verify.ok,
        "ledger_reconciled": reconcile.ok,
        "dead_letters": sum(len(v) for v in bus.dead_letters.values()),
        "seconds": round(seconds, 2),
        "app_user_home_pv_01_trades": len(app_user),
        "app_user_proof_verified": bool(proof and proof["verified"]),
        "tier_a_by_seller": _tier_a_by_seller(report.trades),
        "storage": _storage_days(community, report.trades),
    }
    bus.stop()
    ledger.close()
    import matplotlib.pyplot as plt

    plt.close(_plot_market(out / "market.png", report.trades, community.name, day))
    return summary


def _ask_gateway(bus: InProcessBus, ledger, participant: str) -> tuple[list[dict], dict | None]:
    """An app user reads its own trades, and the inclusion proof of the first one, through the gateway's real
    routes (in-process HTTP)."""
    from fastapi.testclient import TestClient

    from services.gateway.bootstrap import build_gateway
    from services.gateway.publisher import BusPublisher
    from services.settlement.views import LedgerReader
    from shared.auth import issue_token

    settings = Settings()
    client = TestClient(build_gateway(settings, publisher=BusPublisher(bus), ledger=LedgerReader(ledger)))
    token = issue_token(settings.token_secret, participant)
    headers = {"Authorization": f"Bearer {token}"}
    response = client.get("/v1/energy/trades", headers=headers)
    response.raise_for_status()
    trades = response.json()
    if not trades:
        return trades, None
    proof = client.get(f"/v1/ledger/proofs/trades/{trades[0]['trade_id']}", headers=headers)
    proof.raise_for_status()
    return trades, proof.json()


EVENING_PEAK_HOURS = (17, 21)  # local hours the evening peak of the station area's load spans
TOKYO = ZoneInfo("Asia/Tokyo")


def _local(slot: datetime) -> str:
    return slot.astimezone(TOKYO).strftime("%H:%M")


def _slot_ranges(slots: list[datetime]) -> str:
    """'00:00-01:00, 17:30-18:00': the local times of consecutive half-hour slots, merged."""
    ranges: list[list[datetime]] = []
    for slot in sorted(set(slots)):
        if ranges and slot - ranges[-1][1] == SLOT:
            ranges[-1][1] = slot
        else:
            ranges.append([slot, slot])
    return ", ".join(f"{_local(a)}-{_local(b + SLOT)}" for a, b in ranges)


def _tier_a_by_seller(trades: list[TradeMatched]) -> dict[str, str]:
    """Who sold the on-site (tier A) energy, kWh each, largest first."""
    sums: dict[str, Decimal] = {}
    for t in trades:
        if t.tier == "A" and "grid" not in (t.seller, t.buyer):
            sums[t.seller] = sums.get(t.seller, Decimal(0)) + t.kwh
    return {k: str(v) for k, v in sorted(sums.items(), key=lambda kv: -kv[1])}


def _storage_days(community, trades: list[TradeMatched]) -> dict[str, dict[str, object]]:
    """What each stand-alone battery did: kWh sold and bought, when, to whom, its charge before and after,
    and how much it sold in the evening peak."""
    out: dict[str, dict[str, object]] = {}
    for m in community.members:
        if m.kind != "battery" or m.battery is None:
            continue
        sold = [t for t in trades if t.seller == m.participant_id]
        bought = [t for t in trades if t.buyer == m.participant_id]
        kwh_sold = sum((t.kwh for t in sold), Decimal(0))
        kwh_bought = sum((t.kwh for t in bought), Decimal(0))
        start = m.battery.soc_pct
        end = start + (kwh_bought - kwh_sold) / m.battery.capacity_kwh * 100
        lo, hi = EVENING_PEAK_HOURS
        evening = sum((t.kwh for t in sold if lo <= t.slot.astimezone(TOKYO).hour < hi), Decimal(0))
        out[m.participant_id] = {
            "capacity_kwh": str(m.battery.capacity_kwh), "soc_start_pct": str(start),
            "soc_end_pct": str(end.quantize(Decimal("0.1"))), "sold_kwh": str(kwh_sold),
            "bought_kwh": str(kwh_bought), "sold_when": _slot_ranges([t.slot for t in sold]),
            "bought_when": _slot_ranges([t.slot for t in bought]),
            "sold_to": sorted({t.buyer for t in sold}), "evening_peak_sold_kwh": str(evening),
            "plans": community.profiles[m.profile].plans,
        }
    return out


def _storage_lines(storage: dict[str, dict[str, object]]) -> list[tuple[str, str]]:
    """Plain sentences about each battery's day, for the printed summary."""
    from services.market.domain.agents import MID_SOC

    lo, hi = EVENING_PEAK_HOURS
    rows = []
    for pid, s in storage.items():
        sold = f"sold {_kwh(s['sold_kwh'])}" + (f" at {s['sold_when']} to {', '.join(s['sold_to'])}"  # type: ignore[arg-type]
                                                 if s["sold_when"] else "")
        bought = f"bought {_kwh(s['bought_kwh'])}" + (f" at {s['bought_when']}" if s["bought_when"] else "")
        rows.append((pid, f"{_kwh(s['capacity_kwh'])}, {s['soc_start_pct']} % charged at 00:00 -> "
                          f"{s['soc_end_pct']} % at 24:00; {sold}; {bought}"))
        how = ("it plans its day from the market's book of the day before" if s.get("plans") else
               f"its bids follow its charge level only (it offers above {MID_SOC} % charge and bids below it at "
               "its own table price), not the time of day")
        if Decimal(str(s["evening_peak_sold_kwh"])) == 0:
            rows.append(("", f"nothing sold in the evening peak ({lo}:00-{hi}:00): {how}"))
        else:
            rows.append(("", f"{_kwh(s['evening_peak_sold_kwh'])} of it in the evening peak ({lo}:00-{hi}:00): "
                             f"{how}"))
    return rows


def _kwh(value: object) -> str:
    """'1,234.5 kWh' from a Decimal string, trailing zeros dropped."""
    number = Decimal(str(value)).normalize()
    text = f"{number:,f}"
    return f"{text} kWh"


def _write_trades(path: Path, trades: list[TradeMatched]) -> None:
    with path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["slot", "seller", "buyer", "kwh", "price_yen_per_kwh", "tier", "wheeling_fee", "renewable",
                         "trade_id"])
        for t in trades:
            writer.writerow([t.slot.isoformat(), t.seller, t.buyer, t.kwh, t.price, t.tier, t.wheeling_fee,
                             t.renewable, t.trade_id])


def _plot_market(path: Path, trades: list[TradeMatched], name: str, day: date):
    """market.png: kWh per slot by kind of trade and the peer-to-peer price; returns the (saved) figure."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    slots = sorted({t.slot for t in trades})
    local = [s.astimezone(ZoneInfo("Asia/Tokyo")).strftime("%H:%M") for s in slots]
    by_kind: dict[str, list[float]] = {"peer-to-peer": [], "from grid": [], "to grid": []}
    price: list[float] = []
    for s in slots:
        ts = [t for t in trades if t.slot == s]
        p2p = [t for t in ts if "grid" not in (t.seller, t.buyer)]
        by_kind["peer-to-peer"].append(float(sum((t.kwh for t in p2p), Decimal(0))))
        by_kind["from grid"].append(float(sum((t.kwh for t in ts if t.seller == "grid"), Decimal(0))))
        by_kind["to grid"].append(float(sum((t.kwh for t in ts if t.buyer == "grid"), Decimal(0))))
        volume = sum((t.kwh for t in p2p), Decimal(0))
        price.append(float(sum((t.kwh * t.price for t in p2p), Decimal(0)) / volume) if volume else float("nan"))
    fig, ax = plt.subplots(figsize=(11, 4.5), layout="constrained")
    bottom = [0.0] * len(slots)
    for label, values in by_kind.items():
        if not any(values):
            continue  # a kind of trade that did not happen gets no legend entry
        ax.bar(range(len(slots)), values, bottom=bottom, label=label)
        bottom = [b + v for b, v in zip(bottom, values, strict=True)]
    ax.set_ylabel("kWh per 30-minute slot")
    ax.set_xticks(range(0, len(slots), 4), local[::4], rotation=45)
    ax2 = ax.twinx()
    ax2.plot(range(len(slots)), price, color="black", marker=".", label="P2P price (yen/kWh)")
    ax2.set_ylabel("yen/kWh")
    handles = ax.get_legend_handles_labels()[0] + ax2.get_legend_handles_labels()[0]
    labels = ax.get_legend_handles_labels()[1] + ax2.get_legend_handles_labels()[1]
    fig.legend(handles, labels, loc="outside lower center", ncol=4, frameon=False)
    ax.set_title(f"{name}: energy traded per slot, {day.isoformat()} (JST)")
    fig.savefig(path, dpi=100)
    return fig


def run_crowd(out: Path, agents: int | None) -> dict:
    from simulator.run import run_scenario

    result = run_scenario("ebina_weekday", agents=agents, progress=sys.stderr.isatty())
    try:
        from simulator.report import write_report

        write_report(result, out / "sim")
    except (ImportError, TypeError) as exc:  # the report is a convenience; the KPIs are the result
        log.warning("crowd report not written: %s", exc)
    return result.kpis


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="citymatch demo", description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "reports" / "demo")
    parser.add_argument("--day", type=date.fromisoformat, default=date(2026, 5, 20),
                        help="local day to simulate (default a sunny weekday in May)")
    parser.add_argument("--weather", type=float, default=0.8, help="share of clear-sky PV (1.0 = cloudless)")
    parser.add_argument("--agents", type=int, default=None,
                        help="simulated people in the crowd run (default: the real daily ridership, full scale; "
                             "with --serve 20000)")
    live = parser.add_argument_group(
        "live (--serve)", "the whole platform in one process: the simulated city on the in-process bus, the gateway "
                          "serving the app (/app/) and the dashboard (/dashboard/) over it, until Ctrl-C")
    live.add_argument("--serve", action="store_true",
                      help="run the platform live and serve it over HTTP instead of reporting one day")
    live.add_argument("--host", default=None,
                      help="address to bind (default 127.0.0.1; anything but loopback only when given here)")
    live.add_argument("--port", type=int, default=8000, help="HTTP port (default 8000; 0 lets the system choose)")
    live.add_argument("--speed", type=float, default=5.0,
                      help="simulated minutes per real second (default 5: a market slot every 6 s, a day in 4.8 min)")
    live.add_argument("--seed", type=int, default=0, help="seed of every simulated choice (default 0)")
    live.add_argument("--run-dir", type=Path, default=REPO_ROOT / ".run" / "demo",
                      help="the live demo's folder: accounts, secrets, the ledger (default .run/demo)")
    live.add_argument("--report-every", type=float, default=60.0, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        from services.demo_serve import ServeOptions, serve

        logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
        return serve(ServeOptions(host=args.host, port=args.port, speed=args.speed, seed=args.seed, day=args.day,
                                  agents=args.agents or 20_000, run_dir=args.run_dir, report_every=args.report_every))
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
    out = args.out
    out.mkdir(parents=True, exist_ok=True)
    (out / "ledger.sqlite").unlink(missing_ok=True)

    print(f"citymatch demo — Ebina station area, {args.day.isoformat()} (embedded: in-process bus, SQLite ledger)")
    energy = run_energy_day(out, args.day, args.weather)
    crowd = run_crowd(out, args.agents)
    summary = {"energy": energy, "crowd": _json_safe(crowd)}
    (out / "summary.json").write_text(json.dumps(summary, indent=2, default=str) + "\n")
    _print_summary(energy, crowd, out)
    return 0 if energy["ledger_verified"] and energy["ledger_reconciled"] else 1


def _json_safe(value):
    return json.loads(json.dumps(value, default=str))


def _print_summary(energy: dict, crowd: dict, out: Path) -> None:
    from simulator.formatting import bilingual, level, number, with_unit

    tier_a = energy["tier_a_by_seller"]
    tier_a_text = ", ".join(f"{seller} {_kwh(kwh)}" for seller, kwh in tier_a.items())
    rows = [
        ("participants / orders / trades", f"{number(energy['participants'])} / {number(energy['orders'])} / "
                                           f"{number(energy['trades'])}"),
        ("peer-to-peer energy", f"{_kwh(energy['p2p_kwh'])} (renewable {_kwh(energy['renewable_kwh'])})"),
        ("  on the same site (tier A)", f"{_kwh(energy['tier_a_kwh'])}" + (f": {tier_a_text}" if tier_a else "")),
        ("grid in the market", f"{_kwh(energy['grid_import_kwh'])} bought from it, {_kwh(energy['grid_export_kwh'])} "
                               "sold to it (members buy the rest of their load on their own retail contracts)"),
        ("avg P2P purchase price", f"{energy['avg_purchase_price']} yen/kWh incl. wheeling "
                                   f"(grid retail {energy['retail_price']} yen/kWh)"),
        ("avg P2P sale price", f"{energy['avg_sale_price']} yen/kWh (grid buy-back {energy['buyback_price']} yen/kWh)"),
        *_storage_lines(energy["storage"]),
        ("ledger", f"{number(energy['ledger_entries'])} entries, verified={energy['ledger_verified']}, "
                   f"reconciled={energy['ledger_reconciled']}, dead letters={energy['dead_letters']}"),
    ]
    if crowd:
        rows += [
            ("crowd: simulated people", f"{with_unit(crowd['agents'], 'people')} ({crowd['network_label']})"
             + ("" if crowd["scale"] >= 0.999 else
                f"; a {crowd['scale']:.0%} sample of the real ridership, so flows and LOS are the sample's")),
            ("crowd: peak load", f"{with_unit(crowd['peak_load_per_min'], 'persons/min')} at "
                                 f"{bilingual(crowd['peak_load_where'], crowd.get('peak_load_where_ja', ''))}, "
                                 f"{crowd['peak_load_window']} (15-minute mean)"),
            ("crowd: worst level of service", f"{level(crowd['worst_los'])} at "
                                              f"{bilingual(crowd['worst_los_where'], crowd['worst_los_where_ja'])}, "
                                              f"{crowd['worst_los_window']}, by {crowd['worst_los_basis']} "
                                              "(Fruin, worse of flow and space); "
                                              f"{with_unit(crowd['minutes_los_d_or_worse'], 'min')} at D or worse"),
            ("crowd: offers", f"{number(crowd['offers_sent'])} sent, {with_unit(crowd['shifted_trips'], 'trips')} "
                              f"shifted, {with_unit(crowd['cost_per_shifted_trip_yen'], 'yen')} per shifted trip"),
            ("crowd: shopping footfall", f"{with_unit(crowd['footfall_total'], 'visits')}, "
                                         f"est. sales {with_unit(crowd['sales_yen_total'], 'yen')}"),
        ]
    from simulator.formatting import display_width

    width = max(display_width(r[0]) for r in rows)
    print()
    for label, value in rows:
        print(f"  {label}{' ' * (width - display_width(label))}  {value}")
    print(f"\noutputs in {out}: summary.json, trades.csv (UTC slot starts), market.png, ledger.sqlite, "
          "ledger.jsonl (export), ledger-anchors.jsonl (public anchors), proof.json (an app user's proof)"
          + (", sim/ (crowd report)" if (out / "sim").exists() else ""))
    print("check the ledger yourself: .venv/bin/citymatch ledger verify "
          f"--database-url sqlite:///{out}/ledger.sqlite --public-key $(cat {out}/ledger_public_key.txt)")
    print(f"... or without our code: python3 tools/verify_ledger.py ledger {out}/ledger.jsonl "
          f"--public-key $(cat {out}/ledger_public_key.txt) --anchors {out}/ledger-anchors.jsonl")
    print("\nthe whole platform in one process, live: `citymatch demo --serve` (or `make demo-serve`) runs it and "
          "shows it at http://127.0.0.1:8000/dashboard/ (and the app at /app/)")
