"""Benchmark: a full day of the Ebina walking model, vectorised engine against the same model in Mesa.

Measures the vectorised engine on 250,000 people (24 h at 1-minute steps: wall time, peak memory) and,
in the same run, the Mesa implementation of the identical model on 10,000 people, together with the
vectorised engine on those same 10,000 (whose flows must match Mesa's exactly). Agent-steps are
people x minutes for both; the ratio is agent-steps per second, vectorised over Mesa.

    .venv/bin/python -m bench.sim            # 250,000 vs Mesa 10,000
    .venv/bin/python -m bench.sim --quick    # 50,000 vs Mesa 2,000
"""

from __future__ import annotations

import argparse
import logging
import resource
import time

import numpy as np

from bench.common import peak_memory_mb, write_report
from simulator.demand import DAY_MIN, generate
from simulator.engine import simulate
from simulator.mesa_baseline import run_mesa
from simulator.network import load_network
from simulator.scenario import Scenario

log = logging.getLogger("bench.sim")


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer people (runs in well under a minute)")
    parser.add_argument("--agents", type=int, help="people for the vectorised day")
    parser.add_argument("--mesa-agents", type=int, help="people for the Mesa day")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    logging.getLogger("MESA").setLevel(logging.WARNING)  # Mesa logs every step at INFO
    agents = args.agents or (50_000 if args.quick else 250_000)
    mesa_agents = args.mesa_agents or (2_000 if args.quick else 10_000)
    net = load_network()
    rss_start = _rss_mb()

    scenario = Scenario(name="bench", seed=3, population={"agents": agents})
    t0 = time.perf_counter()
    day = generate(scenario, net)
    t1 = time.perf_counter()
    result = simulate(day.trips, day.paths, net)
    t2 = time.perf_counter()
    rss_after_vector = _rss_mb()
    with peak_memory_mb() as mem:  # a second, traced run: tracemalloc slows numpy, so it is not timed
        traced_day = generate(scenario, net)
        simulate(traced_day.trips, traced_day.paths, net)
    del traced_day
    people = day.trips.n_agents
    wall = t2 - t0
    metrics = {
        "agents": people,
        "trips": len(day.trips),
        "minutes": DAY_MIN,
        "wall_s": round(wall, 3),
        "demand_s": round(t1 - t0, 3),
        "simulate_s": round(t2 - t1, 3),
        "peak_mem_mb": round(rss_after_vector, 1),
        "peak_traced_heap_mb": round(mem["mb"], 1),
        "rss_before_mb": round(rss_start, 1),
        "agent_steps": people * DAY_MIN,
        # people x minutes over the stepping time, as for Mesa below (population building excluded in both)
        "agent_steps_per_s": round(people * DAY_MIN / (t2 - t1)),
        "agent_steps_per_s_incl_demand": round(people * DAY_MIN / wall),
        "active_agent_steps": result.active_agent_steps,
        "active_agent_steps_per_s": round(result.active_agent_steps / (t2 - t1)),
    }
    log.info("vectorised: %d people, %.2f s, %.0f MB traced peak", people, wall, mem["mb"])

    small = generate(Scenario(name="bench_mesa", seed=3, population={"agents": mesa_agents}), net)
    t0 = time.perf_counter()
    vec_small = simulate(small.trips, small.paths, net)
    t_vec_small = time.perf_counter() - t0
    t0 = time.perf_counter()
    model = run_mesa(small.trips, small.paths, net)
    t_mesa = time.perf_counter() - t0
    mesa_people = small.trips.n_agents
    identical = bool(np.array_equal(vec_small.flow, model.flow) and np.array_equal(vec_small.arrive, model.arrive))
    metrics.update({
        "mesa_agents": mesa_people,
        "mesa_wall_s": round(t_mesa, 3),
        "mesa_agent_steps_per_s": round(model.agent_steps / t_mesa),
        "mesa_active_agent_steps_per_s": round(model.active_steps / t_mesa),
        "vectorised_same_population_wall_s": round(t_vec_small, 3),
        "mesa_and_vectorised_flows_identical": identical,
    })
    log.info("mesa: %d people, %.2f s; identical flows: %s", mesa_people, t_mesa, identical)
    ratio = {
        "agent_steps_per_s": round(metrics["agent_steps_per_s"] / metrics["mesa_agent_steps_per_s"], 1),
        "active_agent_steps_per_s": round(metrics["active_agent_steps_per_s"]
                                          / max(metrics["mesa_active_agent_steps_per_s"], 1), 1),
        "same_population_speedup": round(t_mesa / max(t_vec_small, 1e-9), 1),
    }
    baseline = {"implementation": f"mesa {__import__('mesa').__version__}", "agents": mesa_people,
                "wall_s": metrics["mesa_wall_s"], "agent_steps_per_s": metrics["mesa_agent_steps_per_s"]}
    params = {"agents": agents, "mesa_agents": mesa_agents, "quick": args.quick, "step_min": 1,
              "network": "schematic Ebina (data/osm/ebina_schematic_walk.osm)", "links": net.n_links,
              "targets": {"wall_s": 60, "peak_mem_mb": 4096, "ratio_agent_steps_per_s": 50}}
    path = write_report("sim", params, metrics, baseline, ratio)
    print(f"wrote {path}")
    print({**{k: metrics[k] for k in ("agents", "wall_s", "peak_mem_mb", "peak_traced_heap_mb", "agent_steps_per_s",
                                       "mesa_agent_steps_per_s", "mesa_and_vectorised_flows_identical")},
           "ratio": ratio})
    return {"metrics": metrics, "ratio": ratio}


if __name__ == "__main__":
    main()
