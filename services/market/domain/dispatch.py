"""Device set-points that follow the contracts of one slot (step 4 of the seed's P2P scheme).

A participant's net contracted energy (bought minus sold) is spread over its storage devices (home
battery, EV) in proportion to their power, each capped at what its power allows in one slot: bought
energy charges (+), sold energy discharges (-). Participants without a known storage device are skipped:
their PV and load follow the contract by themselves.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal

from services.market.domain.registry import Participant
from shared.units import KWH_Q

SLOT_HOURS = Decimal("0.5")


@dataclass(frozen=True)
class Contract:
    trade_id: str
    seller: str
    buyer: str
    kwh: Decimal


@dataclass(frozen=True)
class Setpoint:
    device: str
    participant: str
    kwh: Decimal
    trade_ids: tuple[str, ...]


def setpoints(contracts: Iterable[Contract], participants: Mapping[str, Participant]) -> list[Setpoint]:
    net: dict[str, Decimal] = {}
    ids: dict[str, list[str]] = {}
    for c in contracts:
        for who, sign in ((c.buyer, 1), (c.seller, -1)):
            if who in participants:
                net[who] = net.get(who, Decimal("0")) + sign * c.kwh
                ids.setdefault(who, []).append(c.trade_id)
    out: list[Setpoint] = []
    for who in sorted(net):
        storage = participants[who].storage
        total_power = sum((d.power_kw for d in storage), Decimal("0"))
        if not storage or total_power <= 0 or net[who] == 0:
            continue
        for d in storage:
            share = (net[who] * d.power_kw / total_power).quantize(KWH_Q, rounding=ROUND_DOWN)
            limit = d.power_kw * SLOT_HOURS
            kwh = max(-limit, min(limit, share))
            if kwh != 0:
                out.append(Setpoint(d.device_id, who, kwh, tuple(sorted(set(ids[who])))))
    return out
