"""A read model of each app user's offers and what became of them, for the app's live list.

The campaign service makes offers (``incentives.offers``); answers and expiries come back on
``incentives.responses``, paid rewards on ``incentives.redemptions``. The book folds the three into one row per
offer with its state (offered, accepted, declined, expired, redeemed) and a per-user version number that rises
with every change, so the app's stream sends a user's list again only when something of theirs moved. The code
to show at the shop is in the row only once the user has accepted. Over Kafka the book is fed by the campaign
feed (``campaign_feed.KafkaCampaignFeed(also=...)``), which follows the same topics.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any, Protocol

from services.gateway.bus_feed import BusCatchUp
from shared.bus.inprocess import InProcessBus
from shared.contracts import incentives
from shared.contracts.base import AnyTopic, Payload
from shared.contracts.incentives import (
    IncentiveOfferAnswered,
    IncentiveOfferExpired,
    IncentiveOfferMade,
    RewardRedeemed,
)

KEEP_PER_USER = 50
TOPICS: tuple[AnyTopic, ...] = (incentives.OFFERS, incentives.RESPONSES, incentives.REDEMPTIONS)


class OfferReader(Protocol):
    def offers_for(self, user: str) -> tuple[int, list[dict[str, Any]]]:
        """The user's version number and offers, newest first."""
        ...

    def version_for(self, user: str) -> int:
        """The user's version number alone (what a live stream polls before copying any row)."""
        ...

    def close(self) -> None: ...


def _row(offer: IncentiveOfferMade) -> dict[str, Any]:
    return {"offer_id": offer.offer_id, "campaign": offer.campaign, "offer_type": offer.offer_type,
            "catalogue_offer": offer.catalogue_offer, "shop": offer.shop, "zone": offer.zone,
            "reward_yen": offer.reward_yen, "shift_min": offer.shift_min,
            "made_at": offer.made_at.isoformat() if offer.made_at else None,
            "expires_at": offer.expires_at.isoformat() if offer.expires_at else None,
            "state": "offered", "code": None, "redeemed_at": None}


class OfferBook:
    """Thread-safe: the feed's thread applies, the request handlers read."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rows: dict[str, OrderedDict[str, dict[str, Any]]] = {}
        self._codes: dict[str, tuple[str, str]] = {}  # offer id -> (user, code), kept until answered
        self._owner: dict[str, str] = {}               # offer id -> user
        self._versions: dict[str, int] = {}

    def apply(self, payload: Payload) -> None:
        with self._lock:
            if isinstance(payload, IncentiveOfferMade):
                self._made(payload)
            elif isinstance(payload, IncentiveOfferAnswered):
                self._set(payload.user, payload.offer_id, "accepted" if payload.accepted else "declined")
            elif isinstance(payload, IncentiveOfferExpired):
                self._set(payload.user, payload.offer_id, "expired", only_from="offered")
            elif isinstance(payload, RewardRedeemed):
                self._set(payload.user, payload.offer_id, "redeemed", redeemed_at=payload.at.isoformat())

    def _made(self, offer: IncentiveOfferMade) -> None:
        rows = self._rows.setdefault(offer.user, OrderedDict())
        if offer.offer_id in rows:
            return  # redelivered
        rows[offer.offer_id] = _row(offer)
        self._owner[offer.offer_id] = offer.user
        if offer.code:
            self._codes[offer.offer_id] = (offer.user, offer.code)
        while len(rows) > KEEP_PER_USER:
            old, _ = rows.popitem(last=False)
            self._codes.pop(old, None)
            self._owner.pop(old, None)
        self._bump(offer.user)

    def _set(self, user: str, offer_id: str, state: str, only_from: str | None = None, **extra: Any) -> None:
        if self._owner.get(offer_id) != user:
            return  # an answer for someone else's offer, or one older than what is kept: nothing to show
        row = self._rows[user][offer_id]
        if (only_from and row["state"] != only_from) or row["state"] == "redeemed":
            return
        row.update(state=state, **extra)
        if state in ("accepted", "redeemed") and offer_id in self._codes:
            row["code"] = self._codes[offer_id][1]
        self._bump(user)

    def _bump(self, user: str) -> None:
        self._versions[user] = self._versions.get(user, 0) + 1

    def offers_for(self, user: str) -> tuple[int, list[dict[str, Any]]]:
        with self._lock:
            rows = self._rows.get(user, OrderedDict())
            return self._versions.get(user, 0), [dict(r) for r in reversed(rows.values())]

    def version_for(self, user: str) -> int:
        with self._lock:
            return self._versions.get(user, 0)

    def close(self) -> None:
        return None


class BusOffers(OfferBook):
    """The book over the in-process bus (demo, browser tests): catches up with the bus's log when read."""

    def __init__(self, bus: InProcessBus) -> None:
        super().__init__()
        self._catch_up = BusCatchUp(bus, TOPICS, self.apply)

    def offers_for(self, user: str) -> tuple[int, list[dict[str, Any]]]:
        self._catch_up()
        return super().offers_for(user)

    def version_for(self, user: str) -> int:
        self._catch_up()
        return super().version_for(user)
