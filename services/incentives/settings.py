"""The campaign service's settings: one typed object."""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo

TOKYO = ZoneInfo("Asia/Tokyo")
SEGMENTS = ("commute_in", "commute_out", "shopping", "leisure", "home", "transfer", "local_shopping")


@dataclass(frozen=True)
class IncentiveSettings:
    """- ``code_secret``: key of the redemption codes (HMAC); set a real one outside development.
    - ``round_seconds``: wall time between rounds of a campaign; ``timer_interval_s``: how often the timer looks.
    - ``horizon_minutes``: a round considers trips expected within this much time from now.
    - ``valid_minutes``: an offer unanswered this long lapses.
    - ``prior_strength``: answers the prior guess is worth; ``seed``: the Thompson draws' generator."""

    code_secret: str = "dev-only-redemption-secret"
    zone: ZoneInfo = TOKYO
    segments: tuple[str, ...] = SEGMENTS
    round_seconds: float = 300.0
    timer_interval_s: float = 2.0
    horizon_minutes: int = 90
    valid_minutes: int = 30
    prior_strength: float = 20.0
    seed: int = 0

    def __post_init__(self) -> None:
        if len(self.code_secret) < 16:
            raise ValueError("code_secret: at least 16 characters")
        if self.round_seconds <= 0 or self.timer_interval_s <= 0:
            raise ValueError("round_seconds and timer_interval_s: positive")
