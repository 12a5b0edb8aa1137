"""``reward`` and ``campaign_fund``: incentive rewards paid from a campaign's account, and the sponsor's funding.

A campaign's sponsor (a station-area operator) funds ``campaign:<id>`` for a day (``campaign_fund``, ref
``<campaign>:<day>``); a revision of the campaign's guard funds the change (``campaign_fund`` again, ref
``<campaign>:<day>:r<n>``, once per revision: more when the guard rises, returned to the sponsor when it
falls); each redeemed offer pays its reward from that account to the user (``reward``, ref =
the redemption code, so a code pays once). The campaign account's balance is the budget left: what was spent
is auditable per campaign and reconciles with the campaign service's own count.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import date, datetime
from typing import Any, ClassVar

from services.settlement.domain.kinds.payments import PaymentKind, utc_time
from services.settlement.domain.money import SEN_PER_YEN
from services.settlement.domain.postings import JPY, campaign_account, participant_account, sponsor_account

REWARD = "reward"
FUNDING = "campaign_fund"


@dataclass(frozen=True)
class Reward:
    code: str
    offer_id: str
    campaign_id: str
    user: str
    reward_sen: int
    redeemer: str
    redeemed_at: datetime

    @classmethod
    def from_event(cls, event: Any) -> Reward:
        """From a redemption event (duck-typed: the domain never imports the contract package)."""
        return cls(event.code, event.offer_id, event.campaign_id, event.user, int(event.reward_yen) * SEN_PER_YEN,
                   event.redeemer, event.at)

    @property
    def ref(self) -> str:
        return self.code

    @property
    def when(self) -> datetime:
        return self.redeemed_at

    def problem(self) -> str | None:
        return None if self.reward_sen > 0 else "a reward must be positive"

    def legs(self) -> list[list[Any]]:
        return [[campaign_account(self.campaign_id), JPY, -self.reward_sen, "reward"],
                [participant_account(self.user), JPY, self.reward_sen, "reward"]]

    def parties(self) -> frozenset[str]:
        return frozenset({self.user})

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "redeemed_at": self.redeemed_at.isoformat()}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Reward:
        return cls(str(data["code"]), str(data["offer_id"]), str(data["campaign_id"]), str(data["user"]),
                   int(data["reward_sen"]), str(data["redeemer"]), utc_time(data["redeemed_at"]))


@dataclass(frozen=True)
class CampaignFunding:
    """The launch's funding (``revision`` 0, positive), or revision ``n``'s change of it (either sign)."""

    campaign_id: str
    sponsor: str
    day: date
    budget_sen: int
    funded_at: datetime
    revision: int = 0

    @property
    def ref(self) -> str:
        base = f"{self.campaign_id}:{self.day.isoformat()}"
        return f"{base}:r{self.revision}" if self.revision else base

    @property
    def when(self) -> datetime:
        return self.funded_at

    def problem(self) -> str | None:
        if self.revision < 0:
            return "a campaign's revision number must not be negative"
        if self.revision:
            return None if self.budget_sen != 0 else "a revision's change of funding must not be zero"
        return None if self.budget_sen > 0 else "a campaign's funding must be positive"

    def legs(self) -> list[list[Any]]:
        return [[sponsor_account(self.sponsor), JPY, -self.budget_sen, "campaign_budget"],
                [campaign_account(self.campaign_id), JPY, self.budget_sen, "campaign_budget"]]

    def parties(self) -> frozenset[str]:
        return frozenset()

    def to_json(self) -> dict[str, Any]:
        out = {**asdict(self), "day": self.day.isoformat(), "funded_at": self.funded_at.isoformat()}
        if not self.revision:  # the launch's funding reads as it always has
            del out["revision"]
        return out

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> CampaignFunding:
        return cls(str(data["campaign_id"]), str(data["sponsor"]), date.fromisoformat(data["day"]),
                   int(data["budget_sen"]), utc_time(data["funded_at"]), int(data.get("revision", 0)))


class RewardKind(PaymentKind):
    name: ClassVar[str] = REWARD
    posting_kinds: ClassVar[tuple[str, ...]] = ("reward",)
    fact_type = Reward


class CampaignFundingKind(PaymentKind):
    name: ClassVar[str] = FUNDING
    posting_kinds: ClassVar[tuple[str, ...]] = ("campaign_budget",)
    fact_type = CampaignFunding


@dataclass(frozen=True)
class CampaignAccount:
    """One campaign's account as the ledger holds it: what its sponsor funded, the rewards it paid (per offer,
    with the code that was redeemed), and the balance its postings sum to (which must be funded - rewards)."""

    campaign_id: str
    sponsors: tuple[str, ...]
    days: tuple[str, ...]
    funded_sen: int
    rewards_sen: int
    balance_sen: int
    rewards: dict[str, int]  # offer id -> sen paid

    def to_json(self) -> dict[str, Any]:
        return {"campaign_id": self.campaign_id, "sponsors": list(self.sponsors), "days": list(self.days),
                "funded_yen": self.funded_sen // SEN_PER_YEN, "rewards_yen": self.rewards_sen // SEN_PER_YEN,
                "balance_yen": self.balance_sen // SEN_PER_YEN, "rewards_paid": len(self.rewards),
                "rewards": {k: v // SEN_PER_YEN for k, v in sorted(self.rewards.items())}}


def campaign_accounts(entries: Iterable[Any]) -> list[CampaignAccount]:
    """The ``campaign:<id>`` accounts from ``campaign_fund`` and ``reward`` entries (others are skipped)."""
    funded: dict[str, int] = {}
    paid: dict[str, int] = {}
    balance: dict[str, int] = {}
    rewards: dict[str, dict[str, int]] = {}
    sponsors: dict[str, set[str]] = {}
    days: dict[str, set[str]] = {}
    for entry in entries:
        if entry.kind not in (FUNDING, REWARD):
            continue
        fact, legs = entry.body["fact"], entry.body["postings"]
        cid = str(fact["campaign_id"])
        account = campaign_account(cid)
        balance[cid] = balance.get(cid, 0) + sum(int(leg[2]) for leg in legs if leg[0] == account)
        if entry.kind == FUNDING:
            funded[cid] = funded.get(cid, 0) + int(fact["budget_sen"])
            sponsors.setdefault(cid, set()).add(str(fact["sponsor"]))
            days.setdefault(cid, set()).add(str(fact["day"]))
        else:
            paid[cid] = paid.get(cid, 0) + int(fact["reward_sen"])
            offers = rewards.setdefault(cid, {})
            offers[str(fact["offer_id"])] = offers.get(str(fact["offer_id"]), 0) + int(fact["reward_sen"])
    return [CampaignAccount(cid, tuple(sorted(sponsors.get(cid, ()))), tuple(sorted(days.get(cid, ()))),
                            funded.get(cid, 0), paid.get(cid, 0), balance[cid], rewards.get(cid, {}))
            for cid in sorted(balance)]
