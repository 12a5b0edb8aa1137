"""A few days of the Higashi-Fuji community on every platform, computed once per test session."""

from __future__ import annotations

import pytest

from simulator.energy.params import CommunityParams
from simulator.energy.run import PLATFORMS, simulate
from simulator.energy.weather import read_climate

DAYS = 3
FIRST_DAY = 6   # 2019-05-06..08, Monday to Wednesday: the cars commute to the office; sunny and cloudy days


@pytest.fixture(scope="session")
def climate():
    return read_climate()


@pytest.fixture(scope="session")
def params() -> CommunityParams:
    return CommunityParams(days=DAYS, first_day=FIRST_DAY)


@pytest.fixture(scope="session")
def runs(params, climate):
    return simulate(params, climate, list(PLATFORMS))
