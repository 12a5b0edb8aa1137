"""Budget spent, as the campaign service counts it, against the ledger's campaign accounts.

The campaign service believes, per campaign, that its account was funded with the guard at launch and that
it has paid the rewards of the offers it saw redeemed; the ledger holds ``campaign:<id>``, funded by the
sponsor (``campaign_fund``) and debited once per redeemed code (``reward``). They must agree: the same
funding, the same rewards for the same offers, a balance equal to funding minus rewards, and no more
committed (paid, owed and open at face value) than the account holds. Every difference is named per
campaign. Pure: both sides come in as plain data.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

SHOW_OFFERS = 5  # offer ids named per difference; the count says how many there are


@dataclass(frozen=True)
class CampaignBooks:
    """The campaign service's own count of one campaign's money (yen)."""

    campaign_id: str
    operator: str
    day: str
    funded_yen: int               # the guard: what launching the campaign funds its account with
    daily_yen: int
    paid_yen: int
    paid_offers: dict[str, int]   # offer id -> reward paid
    accepted_unpaid_yen: int
    expected_committed_yen: float
    worst_case_committed_yen: int

    def to_json(self) -> dict[str, Any]:
        return {"campaign_id": self.campaign_id, "operator": self.operator, "day": self.day,
                "funded_yen": self.funded_yen, "daily_yen": self.daily_yen, "paid_yen": self.paid_yen,
                "rewards_paid": len(self.paid_offers), "accepted_unpaid_yen": self.accepted_unpaid_yen,
                "expected_committed_yen": self.expected_committed_yen,
                "worst_case_committed_yen": self.worst_case_committed_yen}


@dataclass(frozen=True)
class LedgerAccount:
    """The ledger's ``campaign:<id>`` account (yen): funding, rewards per offer, and what its postings sum to."""

    campaign_id: str
    funded_yen: int
    rewards_yen: int
    balance_yen: int
    rewards: dict[str, int]  # offer id -> reward paid

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> LedgerAccount:
        return cls(str(data["campaign_id"]), int(data["funded_yen"]), int(data["rewards_yen"]),
                   int(data["balance_yen"]), {str(k): int(v) for k, v in dict(data["rewards"]).items()})


@dataclass(frozen=True)
class CampaignCheck:
    campaign_id: str
    service: CampaignBooks | None
    ledger: LedgerAccount | None
    mismatches: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.mismatches

    def to_json(self) -> dict[str, Any]:
        return {"campaign_id": self.campaign_id, "ok": self.ok, "mismatches": list(self.mismatches),
                "service": self.service.to_json() if self.service else None,
                "ledger": None if self.ledger is None else {
                    "funded_yen": self.ledger.funded_yen, "rewards_yen": self.ledger.rewards_yen,
                    "balance_yen": self.ledger.balance_yen, "rewards_paid": len(self.ledger.rewards)}}


@dataclass(frozen=True)
class CampaignReconcile:
    campaigns: tuple[CampaignCheck, ...] = field(default_factory=tuple)
    not_compared: tuple[str, ...] = ()  # ledger accounts outside what the service's log still covers

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.campaigns)

    @property
    def mismatched(self) -> list[CampaignCheck]:
        return [c for c in self.campaigns if not c.ok]

    def to_json(self) -> dict[str, Any]:
        return {"ok": self.ok, "campaigns": [c.to_json() for c in self.campaigns],
                "mismatched": [c.campaign_id for c in self.mismatched], "not_compared": list(self.not_compared)}

    def lines(self) -> list[str]:
        head = (f"{'campaign books and ledger agree' if self.ok else 'campaign books and ledger DIFFER'}: "
                f"{len(self.campaigns)} campaigns compared, {len(self.mismatched)} with differences")
        out = [head]
        for c in self.campaigns:
            s, led = c.service, c.ledger
            paid = f"service paid {s.paid_yen:,} yen" if s else "unknown to the service"
            held = (f"ledger rewards {led.rewards_yen:,} yen, balance {led.balance_yen:,} of {led.funded_yen:,}"
                    if led else "no account on the ledger")
            out.append(f"  {'ok ' if c.ok else 'BAD'} {c.campaign_id}: {paid}; {held}")
            out += [f"      - {m}" for m in c.mismatches]
        if self.not_compared:
            out.append(f"  not compared (older than the campaign service's log): {', '.join(self.not_compared)}")
        return out


def _named(offers: Iterable[str]) -> str:
    ids = sorted(offers)
    shown = ", ".join(ids[:SHOW_OFFERS])
    return f"{len(ids)} ({shown}{', ...' if len(ids) > SHOW_OFFERS else ''})"


def check_campaign(campaign_id: str, s: CampaignBooks | None, led: LedgerAccount | None) -> CampaignCheck:
    problems: list[str] = []
    if s is None:
        problems.append("the ledger holds an account for a campaign the campaign service does not know")
    if led is None:
        problems.append("the campaign service knows this campaign but the ledger holds no campaign account "
                        "(its funding is not on the ledger)")
    if s is not None and led is not None:
        if led.funded_yen != s.funded_yen:
            problems.append(f"funding: the ledger holds {led.funded_yen:,} yen, the campaign was launched with a "
                            f"guard of {s.funded_yen:,} yen")
        if led.rewards_yen != s.paid_yen:
            problems.append(f"rewards: the campaign service paid {s.paid_yen:,} yen "
                            f"({len(s.paid_offers)} offers), the ledger paid {led.rewards_yen:,} yen "
                            f"({len(led.rewards)} offers)")
        missing = set(s.paid_offers) - set(led.rewards)
        unexpected = set(led.rewards) - set(s.paid_offers)
        if missing:
            problems.append(f"offers paid by the campaign service with no reward on the ledger: {_named(missing)}")
        if unexpected:
            problems.append(f"rewards on the ledger for offers the campaign service never paid: "
                            f"{_named(unexpected)}")
        differ = {o for o in set(s.paid_offers) & set(led.rewards) if s.paid_offers[o] != led.rewards[o]}
        if differ:
            problems.append(f"offers paid a different amount on the two sides: {_named(differ)}")
        if s.worst_case_committed_yen > led.funded_yen:
            problems.append(f"committed: the campaign service has committed {s.worst_case_committed_yen:,} yen "
                            f"at face value, more than the {led.funded_yen:,} yen the account was funded with")
    if led is not None and led.balance_yen != led.funded_yen - led.rewards_yen:
        problems.append(f"the account's balance {led.balance_yen:,} yen is not funding minus rewards "
                        f"({led.funded_yen - led.rewards_yen:,} yen)")
    if led is not None and led.balance_yen < 0:
        problems.append(f"the account is overdrawn: {led.balance_yen:,} yen")
    return CampaignCheck(campaign_id, s, led, tuple(problems))


def reconcile_campaigns(books: Mapping[str, CampaignBooks], accounts: Iterable[LedgerAccount],
                        since_day: str | None = None, funded_days: Mapping[str, Iterable[str]] | None = None,
                        ) -> CampaignReconcile:
    """Compare every campaign either side knows. ``since_day`` (ISO date): ledger accounts funded only before
    it are listed as not compared, since the service's log (its replay window) no longer covers them."""
    ledger = {a.campaign_id: a for a in accounts}
    skipped = []
    if since_day is not None and funded_days is not None:
        for cid in list(ledger):
            days = sorted(funded_days.get(cid, ()))
            if cid not in books and days and days[-1] < since_day:
                skipped.append(cid)
                del ledger[cid]
    ids = sorted(set(books) | set(ledger))
    return CampaignReconcile(tuple(check_campaign(cid, books.get(cid), ledger.get(cid)) for cid in ids),
                             tuple(sorted(skipped)))
