"""An offer's life: sent, then accepted, declined or expired; an accepted offer is redeemed once, by code.

The code is an HMAC of the offer id under the campaign service's secret, so a shop can check it without a
list of codes and nobody can guess another person's. Every refusal names its reason.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass, replace
from typing import Literal

from shared.errors import DomainError

Status = Literal["sent", "accepted", "declined", "expired", "redeemed"]
CODE_CHARS = 12


class RedemptionRefused(DomainError):
    """A code that is unknown, not accepted, expired, or already redeemed."""


class AnswerRefused(DomainError):
    """An answer to an offer that is unknown or no longer open."""


def redemption_code(secret: bytes, offer_id: str) -> str:
    digest = hmac.new(secret, offer_id.encode(), hashlib.sha256).digest()
    return base64.b32encode(digest).decode()[:CODE_CHARS]


@dataclass(frozen=True)
class OfferRecord:
    offer_id: str
    campaign_id: str
    user: str
    catalogue_id: str
    segment: str
    reward_yen: int
    code: str
    sent_minute: int
    expires_minute: int
    status: Status = "sent"
    redeemed_by: str | None = None


@dataclass
class OfferBook:
    """All offers of the service; at most one redemption per code, whatever arrives twice."""

    secret: bytes
    records: dict[str, OfferRecord]
    by_code: dict[str, str]

    @classmethod
    def empty(cls, secret: bytes) -> OfferBook:
        if len(secret) < 16:
            raise ValueError("secret: at least 16 bytes")
        return cls(secret, {}, {})

    def issue(self, offer_id: str, campaign_id: str, user: str, catalogue_id: str, segment: str, reward_yen: int,
              sent_minute: int, valid_minutes: int, code: str | None = None) -> OfferRecord:
        """``code``: the code an offer read back was published with (it stays valid if the secret changed)."""
        if offer_id in self.records:
            return self.records[offer_id]  # a repeated round output: the same offer, not a second one
        code = code.strip().upper() if code else redemption_code(self.secret, offer_id)
        record = OfferRecord(offer_id, campaign_id, user, catalogue_id, segment, reward_yen, code, sent_minute,
                             sent_minute + valid_minutes)
        self.records[offer_id] = record
        self.by_code[code] = offer_id
        return record

    def answer(self, offer_id: str, accepted: bool, minute: int) -> tuple[OfferRecord, bool]:
        """Record an accept or decline; returns (record, changed). A repeated identical answer changes nothing."""
        record = self._get(offer_id)
        wanted: Status = "accepted" if accepted else "declined"
        if record.status == wanted or (record.status == "redeemed" and accepted):
            return record, False
        if record.status != "sent":
            raise AnswerRefused(f"offer {offer_id} is already {record.status}")
        if minute > record.expires_minute:
            raise AnswerRefused(f"offer {offer_id} expired at minute {record.expires_minute}")
        return self._set(replace(record, status=wanted)), True

    def lapse(self, offer_id: str) -> tuple[OfferRecord, bool]:
        """One offer lapses (its expiry was decided elsewhere, e.g. read back from the log)."""
        record = self._get(offer_id)
        if record.status != "sent":
            return record, False
        return self._set(replace(record, status="expired")), True

    def expire(self, minute: int) -> list[OfferRecord]:
        """Offers still unanswered past their time: they lapse (and count as a no for the estimates)."""
        due = [r for r in self.records.values() if r.status == "sent" and minute > r.expires_minute]
        return [self._set(replace(r, status="expired")) for r in due]

    def redeem(self, code: str, redeemer: str) -> OfferRecord:
        offer_id = self.by_code.get(code.strip().upper())
        if offer_id is None:
            raise RedemptionRefused("code: unknown")
        record = self.records[offer_id]
        if record.status == "redeemed":
            raise RedemptionRefused(f"code: already redeemed by {record.redeemed_by}")
        if record.status != "accepted":
            raise RedemptionRefused(f"code: the offer is {record.status}, only an accepted offer is redeemed")
        return self._set(replace(record, status="redeemed", redeemed_by=redeemer))

    def mark_redeemed(self, offer_id: str, redeemer: str) -> OfferRecord:
        """A redemption decided before (read back from the log): the offer is redeemed, whatever it was."""
        record = self._get(offer_id)
        if record.status == "redeemed":
            return record
        return self._set(replace(record, status="redeemed", redeemed_by=redeemer))

    def _get(self, offer_id: str) -> OfferRecord:
        try:
            return self.records[offer_id]
        except KeyError:
            raise AnswerRefused(f"offer_id: unknown offer {offer_id!r}") from None

    def _set(self, record: OfferRecord) -> OfferRecord:
        self.records[record.offer_id] = record
        return record
