"""What a campaign can offer: coupons at named shops, time-shift rewards, route or exit choice, shared
bikes or cars, EV charging discounts.

Each offer says what the person is asked to do (``behaviour``, the change the crowd model understands)
and what they get (``reward_yen``, paid only when the offer is redeemed).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

OfferKind = Literal["coupon", "shift_later", "shift_earlier", "other_exit", "other_mall", "shared_mobility",
                    "ev_charge_now"]
Behaviour = Literal["shift_later", "shift_earlier", "other_exit", "other_mall", "shared_mobility", "ev_charge_now"]
KINDS: tuple[str, ...] = get_args(OfferKind)
MAX_REWARD_YEN = 100_000


@dataclass(frozen=True)
class OfferSpec:
    """One entry of the catalogue.

    A ``coupon`` is redeemed at ``shop`` and asks the holder to stop there for ``shift_min`` minutes
    before walking on, so for the crowd it is a later departure; the others are what they say.
    """

    offer_id: str
    kind: OfferKind
    reward_yen: int
    shift_min: int = 0
    shop: str | None = None
    label: str = ""

    def __post_init__(self) -> None:
        if not self.offer_id or len(self.offer_id) > 64:
            raise ValueError("offer_id: 1 to 64 characters")
        if self.kind not in KINDS:
            raise ValueError(f"kind: must be one of {', '.join(KINDS)}, not {self.kind!r}")
        if not 0 < self.reward_yen <= MAX_REWARD_YEN:
            raise ValueError(f"reward_yen: must be 1..{MAX_REWARD_YEN} (an offer costs only when redeemed)")
        if not 0 <= self.shift_min <= 240:
            raise ValueError("shift_min: must be 0..240 minutes")
        if self.kind in ("shift_later", "shift_earlier", "coupon") and self.shift_min == 0:
            raise ValueError(f"shift_min: a {self.kind} offer must move the trip by at least one minute")
        if self.kind == "coupon" and not self.shop:
            raise ValueError("shop: a coupon names the shop that redeems it")

    @property
    def behaviour(self) -> Behaviour:
        """The change of trip the crowd model sees (a coupon is a stop on the way, i.e. a later walk)."""
        return "shift_later" if self.kind == "coupon" else self.kind

    @property
    def signed_shift_min(self) -> int:
        """Minutes the crossing moves: negative for earlier, zero for changes that keep the time."""
        if self.behaviour == "shift_later":
            return self.shift_min
        if self.behaviour == "shift_earlier":
            return -self.shift_min
        return 0
