"""Shared fixtures: the shipped network is loaded once per session, small populations keep tests fast."""

from __future__ import annotations

import pytest

from simulator.demand import generate
from simulator.network import WalkNetwork, load_network
from simulator.scenario import Scenario


@pytest.fixture(scope="session")
def net() -> WalkNetwork:
    return load_network()


@pytest.fixture(scope="session")
def small_demand(net: WalkNetwork):
    return generate(Scenario(name="small", seed=5, population={"agents": 4000}), net)


REPORT_RUNS = {"ebina_weekday": 4000, "ebina_weekday_event": 4000, "ebina_rainy_saturday": 3000}


@pytest.fixture(scope="session")
def report_runs(tmp_path_factory, net):
    """The three shipped scenarios, small, each with its report written from the figures measured here:
    {name: (SimResult, report.html path, {figure: layout})}."""
    from simulator.figures import PNG_DPI, report_figures
    from simulator.plot_layout import overlapping_texts, texts_outside_figure, texts_over_other_axes
    from simulator.report import write_report
    from simulator.run import run_scenario

    out = {}
    for name, agents in REPORT_RUNS.items():
        sim = run_scenario(name, agents=agents, network=net)
        figures = report_figures(sim)
        layout = {fig_name: {"width_px": fig.get_size_inches()[0] * PNG_DPI, "overlaps": overlapping_texts(fig),
                             "over_other_axes": texts_over_other_axes(fig), "cut_off": texts_outside_figure(fig)}
                  for fig_name, fig in figures.items()}
        written = write_report(sim, tmp_path_factory.mktemp(name), figures=figures)
        out[name] = (sim, written["report.html"], layout)
    return out
