"""One car per charger at a time: round the relaxed flow's occupancy, then name a charger for each booking.

The relaxation lets any number of cars share a site's chargers in a slot as long as their energy fits.
``choose_cells`` turns its energy into whole charger-slots per stay and hands them out with a scheduling
flow that holds at most one car per charger; the planner then re-solves the energy on the chosen cells.
"""

from __future__ import annotations

import itertools

import numpy as np
from ortools.graph.python import min_cost_flow

from services.charging.domain.network import Cells


def ranks_within(group: np.ndarray, *keys: np.ndarray) -> np.ndarray:
    """Rank (0 = best) of each element inside its group; ``keys`` are sorted ascending, first key first."""
    order = np.lexsort(tuple(reversed((group, *keys))))
    sorted_group = group[order]
    starts = np.r_[0, np.nonzero(np.diff(sorted_group))[0] + 1]
    first = np.repeat(starts, np.diff(np.r_[starts, len(order)]))
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order)) - first
    return rank


def cell_groups(cells: Cells, horizon: int) -> np.ndarray:
    groups: np.ndarray = cells.s * horizon + cells.t
    return groups


def overfull(cells: Cells, horizon: int, chargers: np.ndarray, active: np.ndarray) -> np.ndarray:
    """Per cell: True where its site and slot have more active cars than chargers."""
    group = cell_groups(cells, horizon)
    count = np.bincount(group[active], minlength=len(chargers) * horizon)
    limit = np.repeat(chargers, horizon)
    full: np.ndarray = count[group] > limit[group]
    return full


def congested(cells: Cells, horizon: int, chargers: np.ndarray) -> np.ndarray:
    """Per cell: True where more cars are plugged in at its site and slot than there are chargers."""
    group = cell_groups(cells, horizon)
    present = np.bincount(group, minlength=len(chargers) * horizon)
    crowded: np.ndarray = present[group] > np.repeat(chargers, horizon)[group]
    return crowded


def choose_cells(cells: Cells, horizon: int, chargers: np.ndarray, charge: np.ndarray, discharge: np.ndarray,
                 stay_of_cell: np.ndarray, mandatory_wh: np.ndarray) -> np.ndarray:
    """Which cells keep a charger: at most ``chargers`` per congested site and slot.

    Each stay asks for as many whole slots as the relaxed plan's energy there needs at the car's rate
    (charge and discharge rounded up); the slots its departure cannot do without (``mandatory_wh`` per
    stay, from the relaxed plan's charge on arrival) weigh far more than the rest. A bipartite min-cost
    flow (stays -> cells -> site slots, a slot holding as many cars as it has chargers) hands them out,
    preferring the cells the relaxation used most: preemptive scheduling on parallel machines, a flow
    problem, so every slot keeps the rule. Spare chargers then go to the other cars by relaxed energy.
    """
    keep = ~congested(cells, horizon, chargers)
    idx = np.nonzero(~keep)[0]
    if not len(idx):
        return keep
    stays, stay_local = np.unique(stay_of_cell[idx], return_inverse=True)
    rate = np.maximum(cells.rate[idx], 1)
    dis_rate = np.maximum(cells.discharge[idx], 1)
    need_slots = np.zeros(len(stays), dtype=np.int64)
    e_chg = np.bincount(stay_local, weights=charge[idx], minlength=len(stays))
    e_dis = np.bincount(stay_local, weights=discharge[idx], minlength=len(stays))
    stay_rate = np.zeros(len(stays))
    stay_rate[stay_local] = rate
    stay_dis = np.zeros(len(stays))
    stay_dis[stay_local] = dis_rate
    need_slots = (np.ceil(e_chg / np.maximum(stay_rate, 1) - 1e-9) + np.ceil(e_dis / np.maximum(stay_dis, 1) - 1e-9))
    need_slots = need_slots.astype(np.int64)
    must = np.minimum(np.ceil(mandatory_wh[stays] / np.maximum(stay_rate, 1) - 1e-9).astype(np.int64), need_slots)
    groups, group_local = np.unique(cell_groups(cells, horizon)[idx], return_inverse=True)
    group_cap = np.repeat(chargers, horizon)[groups]

    sink = 1
    stay_node = 2 + np.arange(len(stays))
    group_node = 2 + len(stays) + np.arange(len(groups))
    used = (charge[idx] + discharge[idx]) / rate
    cell_cost = -np.rint(1000 * np.minimum(used, 1.0)).astype(np.int64)
    flow = min_cost_flow.SimpleMinCostFlow()
    cell_arcs = flow.add_arcs_with_capacity_and_unit_cost(stay_node[stay_local], group_node[group_local],
                                                         np.ones(len(idx), dtype=np.int64), cell_cost)
    flow.add_arcs_with_capacity_and_unit_cost(group_node, np.full(len(groups), sink), group_cap,
                                              np.zeros(len(groups), dtype=np.int64))
    flow.add_arcs_with_capacity_and_unit_cost(stay_node, np.full(len(stays), sink), must,
                                              np.full(len(stays), 1_000_000))
    flow.add_arcs_with_capacity_and_unit_cost(stay_node, np.full(len(stays), sink), need_slots - must,
                                              np.full(len(stays), 1_000))
    supplies = np.zeros(2 + len(stays) + len(groups), dtype=np.int64)
    supplies[stay_node] = need_slots
    supplies[sink] = -need_slots.sum()
    flow.set_nodes_supplies(np.arange(len(supplies)), supplies)
    if flow.solve() != flow.OPTIMAL:
        raise RuntimeError("occupancy assignment failed")
    chosen = flow.flows(cell_arcs) > 0
    # spare chargers: by relaxed energy, then earliest departure of the car's stay, then cell order
    taken = np.bincount(group_local[chosen], minlength=len(groups))
    rest = np.nonzero(~chosen)[0]
    rank = ranks_within(group_local[rest], -(charge[idx][rest] + discharge[idx][rest]), rest)
    chosen[rest[rank < (group_cap - taken)[group_local[rest]]]] = True
    keep[idx[chosen]] = True
    return keep


def assign_chargers(cells: Cells, horizon: int, chargers: np.ndarray, active: np.ndarray) -> np.ndarray:
    """Charger number (0..n-1 at its site) for each active cell, -1 for the others. A car keeps its charger
    from one slot to the next while it goes on charging, and newcomers take chargers nobody held just before,
    so a run of bookings is one plugged-in session wherever the plan allows it."""
    out = np.full(len(cells), -1, dtype=np.int64)
    idx = np.nonzero(active)[0]
    if not len(idx):
        return out
    order = idx[np.lexsort((cells.v[idx], cells.t[idx], cells.s[idx]))]
    key = cells.s[order] * horizon + cells.t[order]
    bounds = np.r_[0, np.nonzero(np.diff(key))[0] + 1, len(order)]
    previous: dict[int, int] = {}
    previous_key = -2
    for a, b in itertools.pairwise(bounds):
        s, t = divmod(int(key[a]), horizon)
        if previous_key != s * horizon + t - 1:
            previous = {}
        now: dict[int, int] = {}
        group = order[a:b]
        for k in group:
            car = int(cells.v[k])
            if car in previous:
                now[car] = previous[car]
        held_before = set(previous.values())
        used = set(now.values())
        spare = [c for c in range(int(chargers[s])) if c not in used and c not in held_before] + \
                [c for c in range(int(chargers[s])) if c not in used and c in held_before]
        for k in group:
            car = int(cells.v[k])
            if car not in now:
                now[car] = spare.pop(0)
            out[k] = now[car]
        previous, previous_key = now, s * horizon + t
    return out
