"""The shipped Ebina drive network, loaded once for every logistics test that plans on it."""

from __future__ import annotations

import pytest

from shared.roads import RoadNetwork, load_drive_network


@pytest.fixture(scope="session")
def network() -> RoadNetwork:
    return load_drive_network()
