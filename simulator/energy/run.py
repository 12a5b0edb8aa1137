"""Run the community on the chosen platforms (pure: the weather is passed in)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from simulator.energy.central import ORCHESTRA, hard_rock, run_central
from simulator.energy.community import CommunityDays, build_community
from simulator.energy.grid_only import run_grid_only
from simulator.energy.market_platform import run_market
from simulator.energy.outcome import Outcome
from simulator.energy.params import CommunityParams
from simulator.energy.weather import Climate

PLATFORMS: dict[str, tuple[str, str]] = {
    # key: (English, Japanese)
    "grid_only": ("grid only (conventional)", "従来型(系統のみ)"),
    "orchestra": ("Orchestra: central optimum", "オーケストラ型(全体最適)"),
    "modern_jazz": ("Modern Jazz: P2P market", "モダンジャズ型(P2P市場)"),
    "hard_rock": ("Hard Rock: independent microgrids", "ハードロック型(独立マイクログリッド)"),
}


def _runner(key: str, community: CommunityDays) -> Callable[[], Outcome]:
    if key == "grid_only":
        return lambda: run_grid_only(community)
    if key == "modern_jazz":
        return lambda: run_market(community)
    if key == "orchestra":
        return lambda: run_central(community, ORCHESTRA, "orchestra")
    if key == "hard_rock":
        return lambda: run_central(community, hard_rock(community.params.hard_rock_export), "hard_rock")
    raise ValueError(f"unknown platform {key!r} (known: {', '.join(PLATFORMS)})")


def simulate(params: CommunityParams, climate: Climate, platforms: Sequence[str]) -> dict[str, Outcome]:
    community = build_community(params, climate)
    return {key: _runner(key, community)() for key in platforms}
