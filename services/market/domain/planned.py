"""The planning profile's agent: this slot's part of a plan of the day, as orders the market clears.

Why a separate agent: the table agent (:func:`services.market.domain.agents.decide`) only sees the present
state of charge, so it cannot keep energy for a peak it does not know of. This one plans the coming slots
from its forecast (:func:`services.market.domain.day_plan.plan_day`) and bids the first slot of the plan:

- kWh the plan charges are bid up to what stored energy is worth later in the plan (never above retail);
- kWh the plan discharges are offered at no less than that worth (nor below the buy-back price);
- the owner's own load beyond its storage is bid at the retail tariff, PV surplus it does not store is
  offered at the buy-back price, as the table agent does.

It plans one storage: a stand-alone or home battery, or a plugged-in vehicle-to-grid car (horizon up to
its departure, ending with the charge its owner needs). Anything else (a battery and a car together, a car
that may not discharge) is left to the table agent: :func:`decide_planned` returns ``None``.
"""

from __future__ import annotations

from decimal import Decimal

from services.market.domain.agents import AgentInput, EvState, Intent, StorageState, _q
from services.market.domain.day_plan import PlanError, Storage, plan_day

_YEN = Decimal("0.01")


def decide_planned(a: AgentInput) -> list[Intent] | None:
    """This slot's intents from the plan, or ``None`` when the agent has nothing it can plan."""
    forecast = a.forecast
    planned = _planned_storage(a)
    if forecast is None or not forecast.prices or planned is None:
        return None
    state, horizon, floor = planned
    horizon = min(horizon, len(forecast.prices))
    net = a.load_kwh - a.pv_kwh
    later = list(forecast.net_load[1:horizon]) + [0.0] * max(0, horizon - len(forecast.net_load))
    try:
        plan = plan_day(
            Storage(float(state.capacity_kwh), float(state.power_kw), float(state.soc_pct),
                    float(state.min_soc_pct), float(state.max_soc_pct), end_floor_kwh=floor),
            forecast.prices[:horizon], [float(net), *later[:horizon - 1]])
    except PlanError:  # a forecast the plan cannot use (e.g. selling above buying): the table decides
        return None
    charge = min(_q(Decimal(str(plan.charge[0]))), state.charge_room())
    discharge = min(_q(Decimal(str(plan.discharge[0]))), state.discharge_room())
    value = Decimal(str(plan.value_after_first)).quantize(_YEN)
    if floor > 0 and horizon == 1:  # a car's last slot before it leaves: what it still needs is a must
        value = a.retail_price
    traded = net + charge - discharge
    intents: list[Intent] = []
    if traded > 0:
        stored = min(traded, charge)
        if stored > 0:
            intents.append(Intent("buy", stored, min(value, a.retail_price), green_premium=a.profile.green_premium))
        if traded - stored > 0:
            intents.append(Intent("buy", traded - stored, a.retail_price, green_premium=a.profile.green_premium))
    elif traded < 0:
        released = min(-traded, discharge)
        if released > 0:
            intents.append(Intent("sell", released, max(value, a.buyback_price)))
        if -traded - released > 0:
            intents.append(Intent("sell", -traded - released, a.buyback_price, renewable=True))
    return [Intent(i.side, _q(i.kwh), i.limit_price, i.renewable, i.green_premium)
            for i in intents if _q(i.kwh) > 0]


def _planned_storage(a: AgentInput) -> tuple[StorageState, int, float] | None:
    """The one storage to plan, how many slots ahead, and the kWh it must hold at the end."""
    ev = a.ev if a.ev is not None and a.ev.plugged else None
    if a.battery is not None and ev is None:
        return a.battery, len(a.forecast.prices) if a.forecast else 0, 0.0
    if a.battery is None and isinstance(ev, EvState) and ev.v2g:
        need = float(ev.needed_soc_pct * ev.capacity_kwh / 100)
        return ev, max(1, ev.slots_to_departure), need
    return None
