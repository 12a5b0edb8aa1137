"""``cost_share``: a co-owning group's period split on the ledger, each member's bill against the group.

Ref = ``<group>:<period>`` (one split per group and period, ever: a redelivered split books nothing; a
correction is a new period id); slot = the half hour the period ends in. The fact carries the group's totals
and each member's parts, and the check holds them together: every column of the members sums to the group's
total, nothing is negative, a member's PV Wh is at most their Wh, and each member's bill is their charges
minus their credit. Postings: each member pays their charges (instalment + insurance + energy + fleet energy)
into ``group:<group>`` (cost_share), and the group pays each member their credit from rides and deliveries
(fleet_credit); zero rows left out, so the statement's net of a member is minus their bill.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar

from services.settlement.domain.kinds.payments import PaymentKind, utc_time
from services.settlement.domain.postings import JPY, group_account, participant_account

NAME = "cost_share"
AMOUNTS = ("instalment_sen", "insurance_sen", "energy_sen", "fleet_energy_sen", "credit_sen")
USAGE = ("use_min", "distance_m", "wh", "renewable_wh")


@dataclass(frozen=True)
class MemberShare:
    member: str
    use_min: int
    distance_m: int
    wh: int
    renewable_wh: int
    instalment_sen: int
    insurance_sen: int
    energy_sen: int
    fleet_energy_sen: int
    credit_sen: int

    @property
    def charges_sen(self) -> int:
        return self.instalment_sen + self.insurance_sen + self.energy_sen + self.fleet_energy_sen

    @property
    def bill_sen(self) -> int:
        return self.charges_sen - self.credit_sen

    def to_json(self) -> dict[str, Any]:
        return {"member": self.member, **{k: getattr(self, k) for k in (*USAGE, *AMOUNTS)},
                "bill_sen": self.bill_sen}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> MemberShare:
        share = cls(str(data["member"]), *(int(data[k]) for k in (*USAGE, *AMOUNTS)))
        if int(data["bill_sen"]) != share.bill_sen:
            raise ValueError(f"member {share.member} bill_sen must be charges minus credit ({share.bill_sen})")
        return share


@dataclass(frozen=True)
class CostShare:
    group: str
    period: str
    period_end: datetime
    instalment_sen: int
    insurance_sen: int
    energy_sen: int          # the members' own energy (the fleet's is fleet_energy_sen)
    fleet_energy_sen: int
    credit_sen: int          # what rides and deliveries paid for the cars' remaining hours
    members: tuple[MemberShare, ...]

    @classmethod
    def from_event(cls, event: Any) -> CostShare:
        """From a settled split (duck-typed: the domain never imports the contract package)."""
        members = tuple(MemberShare(m.member, m.use_min, m.distance_m, m.wh, m.renewable_wh, m.instalment_sen,
                                    m.insurance_sen, m.energy_sen, m.fleet_energy_sen, m.credit_sen)
                        for m in event.members)
        return cls(event.group, event.period, event.period_end, event.instalment_sen, event.insurance_sen,
                   event.energy_sen, event.fleet_energy_sen, event.credit_sen, members)

    @property
    def ref(self) -> str:
        return f"{self.group}:{self.period}"

    @property
    def when(self) -> datetime:
        return self.period_end

    def problem(self) -> str | None:
        """The first rule the split breaks, naming the field and the rule (``None``: it holds)."""
        if not self.group or not self.period:
            return "cost_share group and period must not be empty"
        if not self.members:
            return "cost_share members must not be empty"
        names = [m.member for m in self.members]
        if len(set(names)) != len(names) or any(not n for n in names):
            return "cost_share members must be named, each once"
        for m in self.members:
            for k in (*USAGE, *AMOUNTS):
                if getattr(m, k) < 0:
                    return f"cost_share member {m.member} {k} must not be negative"
            if m.renewable_wh > m.wh:
                return f"cost_share member {m.member} renewable_wh must not exceed wh"
        for k in AMOUNTS:
            total, parts = getattr(self, k), sum(getattr(m, k) for m in self.members)
            if total < 0:
                return f"cost_share {k} must not be negative"
            if parts != total:
                return f"cost_share members' {k} sum to {parts}, not the group's {k} {total}"
        return None

    def legs(self) -> list[list[Any]]:
        group = group_account(self.group)
        legs = [[participant_account(m.member), JPY, -m.charges_sen, "cost_share"] for m in self.members]
        legs.append([group, JPY, sum(m.charges_sen for m in self.members), "cost_share"])
        legs.append([group, JPY, -self.credit_sen, "fleet_credit"])
        legs += [[participant_account(m.member), JPY, m.credit_sen, "fleet_credit"] for m in self.members]
        return [leg for leg in legs if leg[2] != 0]

    def parties(self) -> frozenset[str]:
        return frozenset(m.member for m in self.members)

    def to_json(self) -> dict[str, Any]:
        return {"group": self.group, "period": self.period, "period_end": self.period_end.isoformat(),
                **{k: getattr(self, k) for k in AMOUNTS}, "members": [m.to_json() for m in self.members]}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> CostShare:
        return cls(str(data["group"]), str(data["period"]), utc_time(data["period_end"]), int(data["instalment_sen"]),
                   int(data["insurance_sen"]), int(data["energy_sen"]), int(data["fleet_energy_sen"]),
                   int(data["credit_sen"]), tuple(MemberShare.from_json(m) for m in data["members"]))


class CostShareKind(PaymentKind):
    name: ClassVar[str] = NAME
    posting_kinds: ClassVar[tuple[str, ...]] = ("cost_share", "fleet_credit")
    fact_type = CostShare
