"""What a storage owner did with a day in the market, with its profile planning or by its table.

Why: whether a planning profile is worth giving a battery is a question of its numbers over a day (energy
traded, yen, its charge through the day), against the same day by the table alone; the community file's
choice should follow them. Both runs see the same day before (the market's memory), so they differ only
by the profile.
"""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from services.market.domain.community import Community
from services.market.simulate import DayReport, market_memory, simulate_day

ZERO = Decimal(0)
MARKS = ("00:00", "18:00", "24:00")


def with_planning(community: Community, participant: str, plans: bool) -> Community:
    """The community with ``participant``'s profile planning (or not); every other member as it is."""
    name = community.member(participant).profile
    profile = dataclasses.replace(community.profiles[name], plans=plans)
    return dataclasses.replace(community, profiles={**community.profiles, name: profile})


def storage_day(community: Community, participant: str, day: date, weather: float = 1.0) -> dict[str, object]:
    """``participant``'s day: kWh sold and bought, yen received less yen paid (wheeling included), its state
    of charge at the marks of the local day and when it traded; after the day before, for the memory."""
    member = community.member(participant)
    device = member.battery or member.ev
    if device is None:
        raise ValueError(f"{participant} has no storage")
    memory = market_memory(community)
    simulate_day(community, day - timedelta(days=1), weather, memory=memory)
    report = simulate_day(community, day, weather, memory=memory)
    return _account(report, participant, device.capacity_kwh, device.soc_pct, community.location.tz)


def _account(report: DayReport, pid: str, capacity: Decimal, soc: Decimal, tz: str) -> dict[str, object]:
    zone = ZoneInfo(tz)
    delta = [ZERO] * 48
    sold = bought = cash = ZERO
    when: list[str] = []
    for t in report.trades:
        if pid not in (t.seller, t.buyer):
            continue
        local = t.slot.astimezone(zone)
        k = local.hour * 2 + local.minute // 30
        if t.seller == pid:
            delta[k] -= t.kwh
            sold += t.kwh
            cash += t.kwh * t.price
        else:
            delta[k] += t.kwh
            bought += t.kwh
            cash -= t.kwh * (t.price + t.wheeling_fee)
        when.append(f"{local:%H:%M} {'sold' if t.seller == pid else 'bought'} {t.kwh} at {t.price}")
    curve = [soc]
    for d in delta:
        curve.append(curve[-1] + d / capacity * 100)
    at = {m: curve[int(m[:2]) * 2] for m in MARKS}
    return {"sold_kwh": str(sold), "bought_kwh": str(bought), "net_yen": str(cash.quantize(Decimal("0.01"))),
            **{f"soc_{m}_pct": str(v.quantize(Decimal("0.1"))) for m, v in at.items()}, "trades": sorted(when)}
