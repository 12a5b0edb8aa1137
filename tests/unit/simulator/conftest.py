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
