"""A participant's statement for a period: their trades, what they paid or received, fees, certificates.

Built purely from ledger entries that concern the participant; rendering to JSON and HTML is here too
because both are plain functions of the statement.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from services.settlement.domain.chain import Entry
from services.settlement.domain.entries import certificate_of, fact_of, postings_of
from services.settlement.domain.money import kwh_to_wh, sen_to_yen, wh_to_kwh
from services.settlement.domain.postings import JPY, KWH, participant_account
from shared.units import SLOT


@dataclass(frozen=True)
class StatementLine:
    trade_id: str
    slot: str
    role: str
    counterparty: str
    kwh: str
    price: str
    energy_yen: str
    wheeling_yen: str
    platform_fee_yen: str
    net_yen: str
    renewable: bool
    entry_seq: int
    entry_hash: str


@dataclass(frozen=True)
class Statement:
    participant: str
    start: str | None
    end: str | None
    lines: list[StatementLine]
    totals: dict[str, str]
    certificates: list[dict[str, Any]]
    retired: list[dict[str, Any]]
    payments: list[dict[str, Any]] = field(default_factory=list)  # entries of other kinds moving the account

    def to_json(self) -> dict[str, Any]:
        return {"participant": self.participant, "period": {"start": self.start, "end": self.end},
                "lines": [vars(line) for line in self.lines], "totals": self.totals,
                "certificates": self.certificates, "retired": self.retired, "payments": self.payments}

    def to_html(self) -> str:
        return render_html(self)


def build_statement(participant: str, start: datetime | None, end: datetime | None,
                    trade_entries: Sequence[Entry], retirements: Sequence[Entry],
                    other_entries: Sequence[Entry] = ()) -> Statement:
    """``other_entries``: entries of any other kind whose postings touch the participant's account (incentive
    rewards, fares, fees ...); each becomes a payment line and counts in the net total."""
    account = participant_account(participant)
    lines: list[StatementLine] = []
    sums = {"energy": 0, "wheeling": 0, "platform_fee": 0, "net": 0, "bought_wh": 0, "sold_wh": 0}
    certs: list[dict[str, Any]] = []
    for e in trade_entries:
        fact = fact_of(e)
        if participant not in (fact.buyer, fact.seller):
            continue  # never show somebody else's trade
        mine = [p for p in postings_of(e) if p.account == account]
        by_kind = {k: sum(p.amount for p in mine if p.commodity == JPY and p.kind == k)
                   for k in ("energy", "wheeling", "platform_fee")}
        net = sum(p.amount for p in mine if p.commodity == JPY)
        wh = sum(p.amount for p in mine if p.commodity == KWH)
        sums["bought_wh" if wh > 0 else "sold_wh"] += abs(wh)
        for k, v in by_kind.items():
            sums[k] += v
        sums["net"] += net
        role = "buyer" if fact.buyer == participant else "seller"
        lines.append(StatementLine(
            fact.trade_id, e.slot or "", role, fact.seller if role == "buyer" else fact.buyer,
            str(wh_to_kwh(kwh_to_wh(fact.kwh))), str(fact.price.quantize(Decimal("0.01"))),
            str(sen_to_yen(by_kind["energy"])), str(sen_to_yen(by_kind["wheeling"])),
            str(sen_to_yen(by_kind["platform_fee"])), str(sen_to_yen(net)), fact.renewable, e.seq, e.hash))
        cert = certificate_of(e)
        if cert is not None and cert.owner == participant:
            certs.append({**cert.to_json(), "kwh": str(wh_to_kwh(cert.wh))})
    retired = [{"cert_id": r.ref, "target": r.body["target"], "kwh": str(wh_to_kwh(int(r.body["wh"]))),
                "entry_seq": r.seq} for r in retirements if r.body.get("participant") == participant]
    payments = []
    for e in other_entries:
        mine = [p for p in postings_of(e) if p.account == account]
        if not mine:
            continue
        net = sum(p.amount for p in mine if p.commodity == JPY)
        sums["net"] += net
        payments.append({"kind": e.kind, "ref": e.ref, "slot": e.slot, "net_yen": str(sen_to_yen(net)),
                         "kwh": str(wh_to_kwh(sum(p.amount for p in mine if p.commodity == KWH))),
                         "entry_seq": e.seq, "entry_hash": e.hash})
    totals = {
        "energy_yen": str(sen_to_yen(sums["energy"])), "wheeling_yen": str(sen_to_yen(sums["wheeling"])),
        "platform_fee_yen": str(sen_to_yen(sums["platform_fee"])), "net_yen": str(sen_to_yen(sums["net"])),
        "bought_kwh": str(wh_to_kwh(sums["bought_wh"])), "sold_kwh": str(wh_to_kwh(sums["sold_wh"])),
        "certificates_kwh": str(wh_to_kwh(sum(int(c["wh"]) for c in certs))),
    }
    return Statement(participant, start.isoformat() if start else None, end.isoformat() if end else None,
                     lines, totals, certs, retired, payments)


def render_html(statement: Statement, tz: str = "Asia/Tokyo") -> str:
    """The statement as a bill a person reads: a styled, self-contained page in yen and kWh, slots in local time.

    All participant-provided text is escaped; amounts keep the ledger's exact decimals.
    """
    esc = html.escape
    zone = ZoneInfo(tz)

    def local(iso: str | None, fallback: str) -> str:
        if not iso:
            return fallback
        return datetime.fromisoformat(iso).astimezone(zone).strftime("%Y-%m-%d %H:%M")

    def slot(iso: str) -> str:
        if not iso:
            return ""
        start = datetime.fromisoformat(iso).astimezone(zone)
        return f"{start:%Y-%m-%d %H:%M}–{start + SLOT:%H:%M}"

    def yen(value: str) -> str:
        return f"{Decimal(value):,.2f}"

    def kwh(value: str) -> str:
        return f"{Decimal(value):,.3f}"

    def party(name: str) -> str:
        return "the grid" if name == "grid" else name

    t = statement.totals
    net = Decimal(t["net_yen"])
    verdict = (f"You pay {yen(str(-net))} yen" if net < 0 else f"You receive {yen(t['net_yen'])} yen" if net > 0
               else "Nothing to pay or receive")
    head = ("Slot (JST)", "Bought from / sold to", "kWh", "Price (yen/kWh)", "Energy (yen)", "Wheeling (yen)",
            "Platform fee (yen)", "Net (yen)", "Renewable", "Ledger entry")
    rows = "".join(
        "<tr>" + f"<td class='when'>{esc(slot(line.slot))}</td>"
        f"<td class='when'>{'Bought from' if line.role == 'buyer' else 'Sold to'} {esc(party(line.counterparty))}</td>"
        + "".join(f"<td class='num'>{v}</td>" for v in (
            kwh(line.kwh), yen(line.price), yen(line.energy_yen), yen(line.wheeling_yen),
            yen(line.platform_fee_yen), yen(line.net_yen)))
        + f"<td>{'yes' if line.renewable else 'no'}</td>"
        f"<td class='num' title='{esc(line.trade_id)}'>#{line.entry_seq}</td></tr>"
        for line in statement.lines) or "<tr><td colspan='10'>No trades in this period.</td></tr>"
    summary = (
        ("Energy bought", f"{kwh(t['bought_kwh'])} kWh"), ("Energy sold", f"{kwh(t['sold_kwh'])} kWh"),
        ("Energy", f"{yen(t['energy_yen'])} yen"), ("Wheeling fees", f"{yen(t['wheeling_yen'])} yen"),
        ("Platform fees", f"{yen(t['platform_fee_yen'])} yen"),
        ("Renewable certificates received", f"{kwh(t['certificates_kwh'])} kWh"),
    )
    summary_rows = "".join(f"<tr><th>{esc(k)}</th><td class='num'>{esc(v)}</td></tr>" for k, v in summary)
    certs = "".join(
        f"<li>{esc(c['cert_id'])}: {esc(kwh(c['kwh']))} kWh"
        + (f" from {esc(str(c['source_site']))}" if c.get("source_site") else "")
        + (f", {esc(slot(c['slot']))}" if c.get("slot") else "") + "</li>" for c in statement.certificates)
    retired = "".join(f"<li>{esc(r['cert_id'])}: {esc(kwh(r['kwh']))} kWh retired for "
                      f"{esc(str(r['target']))} (ledger entry #{r['entry_seq']})</li>" for r in statement.retired)
    style = ("body{font-family:'Noto Sans','Noto Sans CJK JP','DejaVu Sans',sans-serif;max-width:1100px;"
             "margin:1.5em auto;padding:0 12px;color:#222}h1{margin-bottom:0.2em}.sub{color:#555}"
             "table{border-collapse:collapse;margin:0.8em 0;font-size:14px}th,td{border:1px solid #ccc;"
             "padding:4px 8px;text-align:left}th{background:#f0f0f0}td.num{text-align:right;white-space:nowrap;"
             "font-variant-numeric:tabular-nums}.total{font-size:1.3em;font-weight:bold;margin:0.6em 0}"
             ".note{color:#555;font-size:12px}.scroll{overflow-x:auto}td.when{white-space:nowrap}")
    period = (f"{local(statement.start, 'from the first entry')} – {local(statement.end, 'now')} "
              "(Japan Standard Time)")
    return (
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
        f"<title>Statement {esc(statement.participant)}</title><style>{style}</style></head><body>"
        f"<h1>Statement for {esc(statement.participant)}</h1>"
        f"<p class='sub'>電力取引明細書 · Ebina energy community · {esc(period)}</p>"
        f"<p class='total'>{esc(verdict)}</p>"
        f"<table>{summary_rows}<tr><th>Net</th><td class='num'><b>{yen(t['net_yen'])} yen</b></td></tr></table>"
        "<h2>Trades</h2><div class='scroll'><table><thead><tr>" + "".join(f"<th>{h}</th>" for h in head)
        + f"</tr></thead><tbody>{rows}</tbody></table></div>"
        + (f"<h2>Renewable certificates</h2><ul>{certs}</ul>" if certs else "")
        + (f"<h2>Certificates retired</h2><ul>{retired}</ul>" if retired else "")
        + "<p class='note'>Amounts in yen; a minus sign is money you paid, no sign money you received. Each line "
        "is one entry of the signed, hash-chained ledger (its number is shown; hover for the trade id).</p>"
        "</body></html>"
    )
