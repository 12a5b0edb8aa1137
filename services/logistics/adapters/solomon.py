"""Solomon VRPTW text files -> :class:`VrptwProblem`, and CVRPLIB ``.sol`` files -> routes.

Units follow CVRPLIB's convention for these instances: each Euclidean edge truncated to one decimal,
used both as travel time and as cost. Everything is scaled by 10 to integers (tenths), times included,
so the solver and the checker work on exactly the numbers the best-known costs were computed with.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from services.logistics.domain.vrptw import VrptwProblem

SCALE = 10  # tenths of a distance unit


def truncated_distances(xy: np.ndarray, scale: int = SCALE) -> np.ndarray:
    """Euclidean distances truncated to 1/scale, as integers in that unit."""
    d = np.sqrt(((xy[:, None, :] - xy[None, :, :]) ** 2).sum(-1))
    return np.floor(d * scale + 1e-9).astype(np.int64)


def read_solomon(path: str | Path) -> VrptwProblem:
    """Parse the classic layout: name, ``VEHICLE`` block (number, capacity), ``CUSTOMER`` table."""
    lines = [ln.strip() for ln in Path(path).read_text().splitlines()]
    try:
        v_at = next(i for i, ln in enumerate(lines) if ln.upper().startswith("VEHICLE"))
        vehicles, capacity = (int(x) for x in _numbers_after(lines, v_at + 1, 2)[0][:2])
        c_at = next(i for i, ln in enumerate(lines) if ln.upper().startswith("CUSTOMER"))
    except (StopIteration, ValueError, IndexError) as exc:
        raise ValueError(f"{path}: not a Solomon VRPTW file ({exc})") from exc
    rows = [r for r in _numbers_after(lines, c_at + 1, 7)]
    if not rows or rows[0][0] != 0:
        raise ValueError(f"{path}: the customer table must start with the depot (node 0)")
    data = np.array(rows, dtype=float)
    xy = data[:, 1:3]
    return VrptwProblem(
        travel=truncated_distances(xy),
        demand=data[:, 3].astype(np.int64),
        ready=(data[:, 4] * SCALE).astype(np.int64),
        due=(data[:, 5] * SCALE).astype(np.int64),
        service=(data[:, 6] * SCALE).astype(np.int64),
        capacity=capacity,
        vehicles=vehicles,
        names=(Path(path).stem,),
    )


def _numbers_after(lines: list[str], start: int, width: int) -> list[list[float]]:
    rows = []
    for ln in lines[start:]:
        parts = ln.split()
        if not parts:
            continue
        try:
            nums = [float(p) for p in parts]
        except ValueError:
            if rows:
                break
            continue
        if len(nums) >= width:
            rows.append(nums[:width])
    return rows


def read_sol(path: str | Path) -> tuple[list[list[int]], float | None]:
    """Routes and the ``Cost`` line of a CVRPLIB-style solution file."""
    routes, cost = [], None
    for ln in Path(path).read_text().splitlines():
        if m := re.match(r"\s*Route\s*#\d+\s*:(.*)", ln, re.I):
            routes.append([int(x) for x in m.group(1).split()])
        elif m := re.match(r"\s*Cost\s+([-\d.eE+]+)", ln, re.I):
            cost = float(m.group(1))
    return routes, cost
