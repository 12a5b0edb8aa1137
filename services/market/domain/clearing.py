"""Clear one slot: group equal orders, solve the network exactly, split flows into trades, price, check.

``clear(problem, rules, pricing)`` returns a :class:`Clearing` that can check its own invariants: every
trade individually rational, kWh sold equals kWh bought, no order over-filled, money balanced, the
surplus of the trades equal to the solver's integer optimum and never above the LP bound.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from services.market.domain.aggregate import aggregate, disaggregate
from services.market.domain.decompose import GRID, Trades, decompose
from services.market.domain.network import Network, build_network
from services.market.domain.pricing import PricingRule, price, trade_terms
from services.market.domain.problem import Problem, Rules
from services.market.domain.solvers import FlowSolution, solve, solve_lp, solve_min_cost_flow

SolverChoice = Literal["auto", "flow", "lp"]


@dataclass(frozen=True)
class Clearing:
    problem: Problem
    rules: Rules
    pricing: str
    trades: Trades
    price_sen: np.ndarray     # seller receives; buyer pays price + fee
    ask_sen: np.ndarray
    value_sen: np.ndarray
    fee_sen: np.ndarray
    renewable: np.ndarray
    optimum: int              # solver's surplus, Wh x sen/kWh (the integer optimum when ``integral``)
    solver: str               # the path taken, e.g. "min_cost_flow", "lp:HIGHS+mip:SCIP+min_cost_flow"
    lp_bound: float           # the exact network's LP optimum (surplus): >= any clearing's, > where fractional
    integral: bool            # the solver's flows were whole Wh (every "auto" path), so trades reach ``optimum``

    @property
    def surplus(self) -> int:
        """Total surplus of the trades (buyers' value minus sellers' asks minus fees), Wh x sen/kWh."""
        return int((self.trades.wh * (self.value_sen - self.ask_sen - self.fee_sen)).sum())

    @property
    def traded_wh(self) -> int:
        return int(self.trades.wh.sum())

    def problems(self) -> list[str]:
        """Broken invariants, as readable sentences (empty when the clearing is sound)."""
        out: list[str] = []
        t, p = self.trades, self.problem
        if (t.wh <= 0).any():
            out.append("a trade has no positive quantity")
        if (self.price_sen < self.ask_sen).any():
            out.append("a seller receives less than its ask")
        if (self.price_sen + self.fee_sen > self.value_sen).any():
            out.append("a buyer pays more than its limit")
        sold = np.bincount(t.sell[t.sell != GRID], weights=t.wh[t.sell != GRID], minlength=p.n_sell)
        bought = np.bincount(t.buy[t.buy != GRID], weights=t.wh[t.buy != GRID], minlength=p.n_buy)
        if (sold > p.sell_wh).any():
            out.append("a sell order is over-filled")
        if (bought > p.buy_wh).any():
            out.append("a buy order is over-filled")
        paid = int((t.wh * (self.price_sen + self.fee_sen)).sum())
        received = int((t.wh * self.price_sen).sum())
        fees = int((t.wh * self.fee_sen).sum())
        if paid != received + fees:
            out.append("money in differs from money out plus fees")
        # A forced LP's flows may be fractional and are rounded down into trades; every other path is integral.
        if self.integral and abs(self.surplus - self.optimum) > max(1, abs(self.optimum)) * 1e-9:
            out.append(f"trade surplus {self.surplus} differs from the optimum {self.optimum}")
        if self.surplus > self.lp_bound + max(1.0, abs(self.lp_bound)) * 1e-9:
            out.append(f"trade surplus {self.surplus} is above the LP bound {self.lp_bound}")
        return out


def solve_problem(problem: Problem, rules: Rules, solver: SolverChoice = "auto") -> tuple[Network, FlowSolution]:
    if solver == "auto":
        return solve(problem, rules)
    net = build_network(problem, rules)
    return net, (solve_lp(net) if solver == "lp" else solve_min_cost_flow(net))


def clear(problem: Problem, rules: Rules, pricing: PricingRule = "pay-as-clear",
          solver: SolverChoice = "auto") -> Clearing:
    grouped, sell_groups, buy_groups = aggregate(problem)
    net, solution = solve_problem(grouped, rules, solver)
    trades = disaggregate(problem, sell_groups, buy_groups, decompose(grouped, net, solution.flow))
    ask, value, fee, renewable = trade_terms(problem, rules, trades)
    optimum = -solution.cost if isinstance(solution.cost, int) else round(-solution.cost)
    bound = -solution.bound if solution.bound is not None else float(optimum)
    return Clearing(problem=problem, rules=rules, pricing=pricing, trades=trades,
                    price_sen=price(problem, rules, trades, pricing), ask_sen=ask, value_sen=value, fee_sen=fee,
                    renewable=renewable, optimum=optimum, solver=solution.solver, lp_bound=bound,
                    integral=solution.integral)
