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

from services.settlement.domain.chain import Entry
from services.settlement.domain.entries import certificate_of, fact_of, postings_of
from services.settlement.domain.money import kwh_to_wh, sen_to_yen, wh_to_kwh
from services.settlement.domain.postings import JPY, KWH, participant_account


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


def render_html(statement: Statement) -> str:
    """A small self-contained HTML page (all text escaped)."""
    esc = html.escape
    head = ("slot", "trade", "role", "counterparty", "kWh", "yen/kWh", "energy", "wheeling", "platform fee",
            "net yen")
    rows = "".join(
        "<tr>" + "".join(f"<td>{esc(str(v))}</td>" for v in (
            line.slot, line.trade_id, line.role, line.counterparty, line.kwh, line.price, line.energy_yen,
            line.wheeling_yen, line.platform_fee_yen, line.net_yen)) + "</tr>"
        for line in statement.lines)
    totals = "".join(f"<tr><th>{esc(k)}</th><td>{esc(v)}</td></tr>" for k, v in statement.totals.items())
    certs = "".join(f"<li>{esc(c['cert_id'])}: {esc(c['kwh'])} kWh from {esc(str(c['source_site']))} "
                    f"({esc(c['slot'])})</li>" for c in statement.certificates)
    period = f"{statement.start or 'beginning'} – {statement.end or 'now'}"
    return (
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
        f"<title>Statement {esc(statement.participant)}</title></head><body>"
        f"<h1>Statement for {esc(statement.participant)}</h1><p>{esc(period)}</p>"
        "<table><thead><tr>" + "".join(f"<th>{h}</th>" for h in head) + f"</tr></thead><tbody>{rows}</tbody>"
        f"</table><h2>Totals</h2><table>{totals}</table><h2>Renewable certificates</h2><ul>{certs}</ul>"
        "</body></html>"
    )
