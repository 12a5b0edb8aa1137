"""Exact solvers for one network: OR-Tools' min-cost flow (fast, integral), an LP and a MIP.

The flow solver handles every network without bundles; the LP also honours bundles (a line limit shared
by renewable and other energy on a site with green buyers: two commodities on one arc, which no single
flow can express) and bounds the optimum; on the class model (``build_class_network``) it is small and
fast, and only guides the flow (see ``solve``). Trades are whole Wh, so where the LP's vertex is
fractional the target is the integer optimum, which the MIP (SCIP) proves. All are OR-Tools: the LP and
the MIP go through model_builder, filled from a sparse matrix in one call (HiGHS for the LP by default;
GLOP as the independent check).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp
from ortools.graph.python import min_cost_flow
from ortools.linear_solver.python import model_builder as mb

from services.market.domain.network import (
    BYPASS,
    GRID_BUY,
    POOL_BUY,
    SELL_GRID,
    SELL_POOL,
    SINK,
    SOURCE,
    TIER_A,
    Network,
    build_class_network,
    build_network,
)
from services.market.domain.problem import Problem, Rules
from shared.errors import RetryableError


class ClearingError(RetryableError):
    """The solver did not prove an optimum, or a clearing broke an invariant. Not the gate closure's fault:
    it is retried (with an alert) and the slot's orders stay in the book until the slot clears."""


@dataclass(frozen=True)
class FlowSolution:
    flow: np.ndarray   # Wh per arc (float for the LP, integral for min-cost flow)
    cost: int | float  # total arc cost, Wh x sen/kWh; surplus is its negative
    solver: str
    # A proven lower bound on the cost of any solution: the exact network's LP optimum for ``solve`` and
    # ``solve_lp`` (above the cost of an integral optimum where the LP vertex is fractional), SCIP's dual
    # bound for ``solve_mip``, the cost itself for a flow without bundles.
    bound: float | None = None

    @property
    def integral(self) -> bool:
        """Whether the flow is in whole Wh (a min-cost flow's), so trades reach ``cost`` exactly."""
        return not np.issubdtype(self.flow.dtype, np.floating)


def volume_tiebreak_costs(net: Network) -> np.ndarray | None:
    """Arc costs that keep the welfare optimum and, among optimal solutions, trade the most kWh
    (peer-to-peer before the grid); ``None`` where the scaled costs could overflow int64.

    Welfare costs are multiplied by K; an untraded seller's Wh (bypass) costs 4, a Wh sold to the grid
    2 more and a Wh bought from it 1 less. So a peer trade (-4) beats selling to and buying from the grid
    (-3), which beats either alone or nothing; the whole tie-break is worth less than K and cannot
    outweigh one unit (1 Wh x 1 sen/kWh) of welfare.
    """
    k = 4 * int(net.supply) + 1
    max_cost = int(np.abs(net.cost).max()) + 4 if len(net.cost) else 2
    limit = 2**62
    if max_cost * k * (net.n_nodes + 1) >= limit or 4 * max_cost * k * max(int(net.supply), 1) >= limit:
        return None
    cost = net.cost * k
    cost[net.kind == BYPASS] += 4
    cost[net.kind == SELL_GRID] += 2
    cost[net.kind == GRID_BUY] -= 1
    return cost


def solve_min_cost_flow(net: Network, prefer_volume: bool = True, relax_bundles: bool = False) -> FlowSolution:
    """Exact min-cost flow. With ``prefer_volume`` ties in welfare go to the solution trading more
    (a trade with zero gain, e.g. ask + wheeling fee = bid, happens rather than not). With
    ``relax_bundles`` the bundled line limits are ignored (a relaxation: check them afterwards)."""
    if net.bundles and not relax_bundles:
        raise ValueError("the network has bundled line limits; use solve_lp")
    cost = volume_tiebreak_costs(net) if prefer_volume else None
    smcf = min_cost_flow.SimpleMinCostFlow()
    arcs = smcf.add_arcs_with_capacity_and_unit_cost(net.tail, net.head, net.cap, net.cost if cost is None else cost)
    supplies = np.zeros(net.n_nodes, dtype=np.int64)
    supplies[SOURCE], supplies[SINK] = net.supply, -net.supply
    smcf.set_nodes_supplies(np.arange(net.n_nodes), supplies)
    status = smcf.solve()
    if status != smcf.OPTIMAL:
        raise ClearingError(f"min-cost flow ended with status {status}")
    flow = np.asarray(smcf.flows(arcs), dtype=np.int64)
    total = int((flow * net.cost).sum())
    return FlowSolution(flow=flow, cost=total, solver="min_cost_flow", bound=None if relax_bundles else float(total))


def bundles_respected(net: Network, flow: np.ndarray) -> bool:
    return all(int(flow[arcs].sum()) <= cap for arcs, cap in net.bundles)


def label_violations(p: Problem, net: Network, flow: np.ndarray) -> list[int]:
    """Optimistically modelled sites whose green buyers got more than the renewable kWh crossing the line."""
    bad = []
    for k in net.optimistic_sites:
        pool_r = 2 + 2 * k
        into = (net.kind == SELL_POOL) & (net.pool == pool_r) & (net.tier == TIER_A)
        renewable_in = int(flow[into & p.sell_renewable[np.maximum(net.sell, 0)]].sum())
        green_out = int(flow[(net.kind == POOL_BUY) & (net.pool == pool_r)].sum())
        if green_out > renewable_in:
            bad.append(k)
    return bad


def solve(p: Problem, rules: Rules) -> tuple[Network, FlowSolution]:
    """The exact integer optimum, as cheaply as possible.

    1. The pure-flow network, with limited lines shared by renewable and other energy relaxed (all their
       energy may serve green buyers). If green buyers there got no more than the renewable kWh crossing
       the line, the relaxed optimum is feasible, hence optimal: done.
    2. Else the exact model with orders merged into classes (``build_class_network``, small): its LP
       optimum (a bound), and each shared line's renewable share there, come from its min-cost flow without
       those limits if that keeps them, else from its LP. With each line split at that share into a
       renewable and an other arc the full network is a pure flow again and a restriction of the exact
       model; its min-cost flow is integral, and optimal when it is less than a whole unit above the LP
       bound (it does whenever the shares are integral: at a fixed share what is left is a flow with
       integral capacities; a fractional share may still round to an optimum: the path says ``rounded``).
    3. Else the LP vertex is fractional and its rounding loses surplus: the class model as a MIP with
       integral shares (SCIP; the other columns follow, as a flow at fixed integral shares has an integral
       optimum) gives the integer optimum and its shares; the split network's flow at those shares is
       accepted when it reaches the MIP's bound (every integral clearing of the full network merges into an
       integral one of the class model, so that bound holds for the full network too).
    4. Otherwise the full network as a MIP, its shares checked the same way.
    """
    net = build_network(p, rules, shared_lines="renewable")
    solution = solve_min_cost_flow(net)
    violated = label_violations(p, net, solution.flow) if net.optimistic_sites else []
    if not violated:
        return net, FlowSolution(solution.flow, solution.cost, solution.solver, float(solution.cost))
    class_net, renewable_arc = build_class_network(p, rules)
    guide = solve_min_cost_flow(class_net, relax_bundles=True)
    if not bundles_respected(class_net, guide.flow):
        guide = solve_lp(class_net, "HIGHS", _FAST_HIGHS)
    shares = {k: float(guide.flow[arc]) for k, arc in renewable_arc.items()}
    lp_name = "" if guide.solver == "min_cost_flow" else f"{guide.solver}+"
    found = _split_flow(p, rules, shares, float(guide.cost))
    if found is not None:
        rounded = "rounded+" if any(abs(v - round(v)) > 1e-6 for v in shares.values()) else ""
        name = f"{lp_name}{rounded}min_cost_flow"
        return found[0], FlowSolution(found[1].flow, found[1].cost, name, float(guide.cost))
    integer = solve_mip(class_net, np.array(list(renewable_arc.values()), dtype=np.int64))
    found = _split_flow(p, rules, {k: float(integer.flow[arc]) for k, arc in renewable_arc.items()},
                        _proven_bound(integer))
    mip_name = integer.solver
    if found is None:
        exact = build_network(p, rules, shared_lines="bundle")
        integer = solve_mip(exact)
        found = _split_flow(p, rules, bundle_shares(p, exact, integer.flow), _proven_bound(integer))
        mip_name = f"{integer.solver}:full"
        if found is None:
            raise ClearingError("no integral clearing reached the integer optimum's bound")
    name = f"{lp_name}{mip_name}+min_cost_flow"
    return found[0], FlowSolution(found[1].flow, found[1].cost, name, float(guide.cost))


def _proven_bound(solution: FlowSolution) -> float:
    """The bound of a solver's answer that proves one (``solve_mip``, ``solve_lp``)."""
    if solution.bound is None:
        raise ClearingError(f"{solution.solver} returned no proven bound")
    return solution.bound


def _split_flow(p: Problem, rules: Rules, shares: dict[int, float], bound: float
                ) -> tuple[Network, FlowSolution] | None:
    """The full network with each shared line split at its rounded renewable share, solved as a flow;
    ``None`` unless the flow is optimal: ``bound`` is a lower bound on the cost of every clearing and
    costs of whole Wh are integers, so a flow less than one unit above it cannot be beaten. On large books
    the solvers' tolerance (1e-9 relative) exceeds a unit and is what is allowed there."""
    split = {k: int(np.rint(v)) for k, v in shares.items()}
    split_net = build_network(p, rules, shared_lines="renewable", split=split)
    restricted = solve_min_cost_flow(split_net)
    if split_net.optimistic_sites or restricted.cost - bound >= max(1.0 - 1e-6, 1e-9 * abs(bound)):
        return None
    return split_net, restricted


def bundle_shares(p: Problem, net: Network, flow: np.ndarray) -> dict[int, float]:
    """Per bundled site, the renewable Wh crossing its line in ``flow``."""
    out: dict[int, float] = {}
    for arcs, _ in net.bundles:
        site = int(p.sell_site[net.sell[arcs[0]]])
        out[site] = float(flow[arcs[p.sell_renewable[net.sell[arcs]]]].sum())
    return out


# HiGHS' dual simplex without presolve and with Dantzig pricing: on the class LP (a few hundred rows, one
# column per order) presolve and steepest-edge weights cost more than the iterations they save.
_FAST_HIGHS = "presolve=off\nsimplex_dual_edge_weight_strategy=0"


def network_model(net: Network) -> mb.Model:
    """The network as a linear model: conservation at inner nodes, arc bounds, one row per bundle."""
    n_arcs = len(net.tail)
    inner = np.ones(net.n_nodes, dtype=bool)
    inner[[SOURCE, SINK]] = False
    cols = np.arange(n_arcs)
    rows = np.concatenate([net.head, net.tail])
    data = np.concatenate([np.ones(n_arcs), -np.ones(n_arcs)])
    keep = inner[rows]
    node_row = np.cumsum(inner) - 1
    a_flow = sp.csr_matrix((data[keep], (node_row[rows[keep]], np.concatenate([cols, cols])[keep])),
                           shape=(int(inner.sum()), n_arcs))
    # Supply leaves the source: sum of flows out of the source equals its supply.
    out_src = sp.csr_matrix((np.ones(int((net.tail == SOURCE).sum())), (np.zeros(int((net.tail == SOURCE).sum())),
                             cols[net.tail == SOURCE])), shape=(1, n_arcs))
    blocks = [a_flow, out_src]
    lower = [np.zeros(a_flow.shape[0]), np.array([net.supply], dtype=float)]
    upper = [np.zeros(a_flow.shape[0]), np.array([net.supply], dtype=float)]
    for arcs, cap in net.bundles:
        blocks.append(sp.csr_matrix((np.ones(len(arcs)), (np.zeros(len(arcs)), arcs)), shape=(1, n_arcs)))
        lower.append(np.array([0.0]))
        upper.append(np.array([float(cap)]))
    model = mb.Model()
    helper: Any = model.helper  # its generated stub misnames float arrays (numpy.float64[m, 1]); unchecked here
    helper.fill_model_from_sparse_data(
        np.zeros(n_arcs), net.cap.astype(float), net.cost.astype(float),
        np.concatenate(lower), np.concatenate(upper), sp.vstack(blocks, format="csr"))
    return model


def solve_lp(net: Network, solver: str = "HIGHS", highs_options: str = "") -> FlowSolution:
    """The network's LP optimum (a vertex; with bundles it may be fractional)."""
    model = network_model(net)
    engine = mb.Solver(solver)
    if solver.upper() == "HIGHS":
        # HiGHS prints a banner to stdout otherwise.
        engine.set_solver_specific_parameters("\n".join(filter(None, ["output_flag=false", highs_options])))
    status = engine.solve(model)
    if status != mb.SolveStatus.OPTIMAL:
        raise ClearingError(f"LP ended with status {status}")
    cost = float(engine.objective_value)
    return FlowSolution(flow=_variable_values(engine, model), cost=cost, solver=f"lp:{solver}", bound=cost)


def solve_mip(net: Network, integer_arcs: np.ndarray | None = None) -> FlowSolution:
    """The network's integer optimum by SCIP, with ``integer_arcs`` (all arcs when ``None``) integral and
    no optimality gap. ``bound`` is SCIP's proven bound: no integral solution costs less."""
    model = network_model(net)
    for arc in range(len(net.tail)) if integer_arcs is None else integer_arcs:
        model.helper.set_var_integrality(int(arc), True)
    engine = mb.Solver("SCIP")
    engine.set_solver_specific_parameters("limits/gap = 0\nlimits/absgap = 0")
    status = engine.solve(model)
    if status != mb.SolveStatus.OPTIMAL:
        raise ClearingError(f"MIP ended with status {status}")
    return FlowSolution(flow=_variable_values(engine, model), cost=float(engine.objective_value), solver="mip:SCIP",
                        bound=float(engine.best_objective_bound))


def _variable_values(engine: mb.Solver, model: mb.Model) -> np.ndarray:
    """All variable values as one array. ``Solver.values`` builds a pandas Series through one Python call
    per variable (a tenth of a second per 50,000 columns); the solve helper returns the array at once."""
    helper = getattr(engine, "_Solver__solve_helper", None)
    if helper is not None and hasattr(helper, "variable_values"):
        values = np.asarray(helper.variable_values(), dtype=float)
        if len(values) == model.num_variables:
            return values
    return np.asarray(engine.values(model.get_variables()), dtype=float)
