"""The exact integer optimum of a clearing network, by CP-SAT: an oracle independent of the clearing's path.

Trades are whole Wh, so the clearing's target is the best integral flow of the exact network (shared
lines as bundles), which can be below the LP optimum where the LP's vertex is fractional. CP-SAT works in
integers throughout, so its optimum carries no solver tolerance, and it shares no solver with the
clearing (flows, HiGHS, SCIP).
"""

from __future__ import annotations

from ortools.sat.python import cp_model

from services.market.domain.network import SINK, SOURCE, build_network
from services.market.domain.problem import Problem, Rules
from services.market.domain.solvers import solve_lp


def integer_optimum(p: Problem, rules: Rules) -> int:
    """Max surplus (Wh x sen/kWh) over integral flows of ``build_network(p, rules)``: every arc within its
    capacity, conservation at inner nodes, the source's supply sent, every bundle within its line."""
    net = build_network(p, rules)
    model = cp_model.CpModel()
    flow = [model.new_int_var(0, int(c), f"f{a}") for a, c in enumerate(net.cap)]
    balance: list[list] = [[] for _ in range(net.n_nodes)]
    for a, (t, h) in enumerate(zip(net.tail.tolist(), net.head.tolist(), strict=True)):
        balance[t].append(-flow[a])
        balance[h].append(flow[a])
    for node, terms in enumerate(balance):
        if node == SOURCE:
            model.add(sum(terms) == -int(net.supply))
        elif node != SINK and terms:
            model.add(sum(terms) == 0)
    for arcs, cap in net.bundles:
        model.add(sum(flow[int(a)] for a in arcs) <= int(cap))
    model.minimize(sum(int(c) * f for c, f in zip(net.cost.tolist(), flow, strict=True) if c))
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1  # deterministic, and CPU is shared
    status = solver.solve(model)
    assert status == cp_model.OPTIMAL, solver.status_name(status)
    return -round(solver.objective_value)


def lp_bound(p: Problem, rules: Rules) -> float:
    """The exact network's LP optimum (GLOP): no clearing of whole Wh can beat it."""
    return -solve_lp(build_network(p, rules), "GLOP").cost
