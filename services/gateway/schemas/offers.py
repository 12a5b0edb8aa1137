"""What the app's offer routes answer: the caller's offers with what became of each."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field


class OfferPublic(BaseModel):
    offer_id: str
    campaign: str | None
    offer_type: str
    catalogue_offer: str | None
    shop: str | None
    zone: str | None
    reward_yen: int
    shift_min: int
    made_at: datetime | None
    expires_at: datetime | None
    state: Literal["offered", "accepted", "declined", "expired", "redeemed"]
    code: str | None = Field(description="the code the shop checks, shown once the offer is accepted")
    redeemed_at: datetime | None


class OffersPublic(BaseModel):
    version: int = Field(description="rises with every change to the caller's offers")
    offers: list[OfferPublic] = Field(description="newest first")
