"""A community's day in the market: agents bid every slot, the market clears, storage follows the contracts.

Pure and seeded by its inputs (no clock, no bus): planners and the simulator call it to see what the
market does for a community, and it reproduces the kind of figures the seed reports for the
Higashi-Fuji pilot (average peer-to-peer purchase price against the grid's retail price, average sale
price against the buy-back price). State of charge moves with each storage owner's energy balance:
PV - load + bought - sold, within the device's capacity.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from services.market.domain.agents import AgentInput, decide, to_orders
from services.market.domain.community import Community
from services.market.domain.price_memory import PriceMemory
from services.market.domain.solar import slot_of_day
from services.market.market_slot import GRID_PARTICIPANT, clear_orders
from shared.contracts.energy import EnergyOrderPlaced, TradeMatched

ZERO = Decimal(0)
ClearSlot = Callable[[datetime, list[EnergyOrderPlaced], Any], list[TradeMatched]]


@dataclass
class DayReport:
    community: str
    day: date
    slots: int = 0
    orders: int = 0
    p2p_kwh: Decimal = ZERO
    grid_import_kwh: Decimal = ZERO
    grid_export_kwh: Decimal = ZERO
    renewable_kwh: Decimal = ZERO
    tier_a_kwh: Decimal = ZERO
    buyers_paid_yen: Decimal = ZERO       # peer-to-peer energy + wheeling
    sellers_received_yen: Decimal = ZERO  # peer-to-peer energy
    retail_price: Decimal = ZERO
    buyback_price: Decimal = ZERO
    trades: list[TradeMatched] = field(default_factory=list, repr=False)

    @property
    def avg_purchase_price(self) -> Decimal:
        """What peer-to-peer buyers paid per kWh, wheeling included (the seed's 21.6 yen/kWh figure)."""
        return (self.buyers_paid_yen / self.p2p_kwh).quantize(Decimal("0.01")) if self.p2p_kwh else ZERO

    @property
    def avg_sale_price(self) -> Decimal:
        """What peer-to-peer sellers received per kWh (the seed's 20.0 yen/kWh figure)."""
        return (self.sellers_received_yen / self.p2p_kwh).quantize(Decimal("0.01")) if self.p2p_kwh else ZERO

    def summary(self) -> dict[str, str | int]:
        return {
            "community": self.community, "day": self.day.isoformat(), "slots": self.slots, "orders": self.orders,
            "p2p_kwh": str(self.p2p_kwh), "tier_a_kwh": str(self.tier_a_kwh), "renewable_kwh": str(self.renewable_kwh),
            "grid_import_kwh": str(self.grid_import_kwh), "grid_export_kwh": str(self.grid_export_kwh),
            "avg_purchase_price": str(self.avg_purchase_price),
            "purchase_below_retail": str(self.retail_price - self.avg_purchase_price) if self.p2p_kwh else "",
            "avg_sale_price": str(self.avg_sale_price),
            "sale_above_buyback": str(self.avg_sale_price - self.buyback_price) if self.p2p_kwh else "",
        }


def simulate_day(community: Community, day: date, weather_factor: float = 1.0,
                 gate_lead: timedelta = timedelta(minutes=30), clear: ClearSlot | None = None,
                 memory: PriceMemory | None = None, soc: dict[str, Decimal] | None = None) -> DayReport:
    """Run the 48 slots of the local ``day``; orders are placed ``gate_lead`` before each slot.

    ``clear(slot, orders, settings)`` returns the slot's trades; by default the market core is called
    directly. The embedded demo passes one that sends the orders through the market service on a bus.
    Each cleared slot is recorded in ``memory`` (a fresh one by default), from which planning members
    forecast their coming day: pass the memory of the day before to start with its prices. ``soc`` (updated
    in place) carries the storage charge over from an earlier day; by default each device starts as its
    community file says.
    """
    clear = clear or (lambda slot, orders, settings: clear_orders(slot, orders, settings)[0])
    settings = community.market_settings()
    memory = memory if memory is not None else market_memory(community)
    soc = soc if soc is not None else initial_soc(community)
    report = DayReport(community.name, day, retail_price=community.retail_price,
                       buyback_price=community.buyback_price)
    for index in range(48):
        slot = slot_of_day(day, index, community.location.tz)
        inputs, orders = slot_orders(community, slot, weather_factor, soc, slot - gate_lead, memory)
        trades = clear(slot, orders, settings)
        memory.record(slot, orders, trades)
        _account(report, trades)
        report.slots += 1
        report.orders += len(orders)
        follow_contracts(community, inputs, trades, soc, slot)
    return report


def initial_soc(community: Community) -> dict[str, Decimal]:
    """Each storage device's charge (percent) at the start: ``<participant>/battery`` and ``<participant>/ev``."""
    soc: dict[str, Decimal] = {}
    for m in community.members:
        if m.battery:
            soc[f"{m.participant_id}/battery"] = m.battery.soc_pct
        if m.ev:
            soc[f"{m.participant_id}/ev"] = m.ev.soc_pct
    return soc


def market_memory(community: Community) -> PriceMemory:
    """An empty memory of the community's market (its time zone and wheeling fee)."""
    return PriceMemory(community.location.tz, float(community.wheeling_fee))


def slot_orders(community: Community, slot: datetime, weather_factor: float, soc: dict[str, Decimal],
                placed_at: datetime, memory: PriceMemory | None = None,
                ) -> tuple[list[AgentInput], list[EnergyOrderPlaced]]:
    """What each member's agent knows of ``slot`` and the orders it places for it at ``placed_at`` (a live
    run places them slot by slot, then hands the slot's trades to :func:`follow_contracts`). Planning
    members plan from ``memory``; without one they bid by their tables."""
    inputs = community.agent_inputs(slot, weather_factor, soc, memory)
    return inputs, [o for a in inputs for o in to_orders(a, slot, decide(a), placed_at)]


def _account(report: DayReport, trades: list[TradeMatched]) -> None:
    for t in trades:
        report.trades.append(t)
        if t.seller == GRID_PARTICIPANT:
            report.grid_import_kwh += t.kwh
        elif t.buyer == GRID_PARTICIPANT:
            report.grid_export_kwh += t.kwh
        else:
            report.p2p_kwh += t.kwh
            report.buyers_paid_yen += t.kwh * (t.price + t.wheeling_fee)
            report.sellers_received_yen += t.kwh * t.price
            if t.renewable:
                report.renewable_kwh += t.kwh
            if t.tier == "A":
                report.tier_a_kwh += t.kwh


def follow_contracts(community: Community, inputs: list[AgentInput], trades: list[TradeMatched],
                     soc: dict[str, Decimal], slot: datetime) -> None:
    """Storage absorbs each owner's balance PV - load + bought - sold (EVs first when plugged in)."""
    net: dict[str, Decimal] = {}
    for t in trades:
        net[t.buyer] = net.get(t.buyer, ZERO) + t.kwh
        net[t.seller] = net.get(t.seller, ZERO) - t.kwh
    for a in inputs:
        balance = a.pv_kwh - a.load_kwh + net.get(a.participant, ZERO)
        member = community.member(a.participant)
        devices = []
        if member.ev and a.ev is not None and a.ev.plugged:
            devices.append((f"{a.participant}/ev", member.ev.capacity_kwh, member.ev.power_kw))
        if member.battery:
            devices.append((f"{a.participant}/battery", member.battery.capacity_kwh, member.battery.power_kw))
        for key, capacity, power in devices:
            if balance == 0:
                break
            stored = soc[key] * capacity / 100
            step = max(-power / 2, min(power / 2, balance))
            new = max(ZERO, min(capacity, stored + step))
            soc[key] = (new / capacity * 100).quantize(Decimal("0.01"))
            balance -= new - stored
