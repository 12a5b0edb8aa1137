"""A booking as an OCPP 1.6 charging profile: the set-point of one slot as a power limit for that slot.

The energy of a 30-minute slot becomes a limit in W (kWh x 2000) valid from the slot's start to its end;
stack level 1 over the charger's default, purpose TxDefaultProfile so it applies to whichever transaction
the booked car starts. The profile id is derived from the slot, so sending the same set-point again
replaces the profile instead of piling up new ones.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from shared.units import SLOT

EPOCH = datetime(2020, 1, 1).astimezone()


def profile_id(slot: datetime) -> int:
    """Slot number since 2020 (fits OCPP's integer id and is the same for the same slot)."""
    return int((slot - EPOCH.astimezone(slot.tzinfo)).total_seconds() // SLOT.total_seconds())


def slot_profile(slot: datetime, wh: int) -> dict[str, Any]:
    """The ``csChargingProfiles`` object for one slot (keys in OCPP's JSON spelling)."""
    if wh < 0:
        raise ValueError("a charging profile cannot ask for negative energy (V2G is not in OCPP 1.6)")
    limit_w = round(wh * 3600 / SLOT.total_seconds(), 1)
    return {
        "chargingProfileId": profile_id(slot),
        "stackLevel": 1,
        "chargingProfilePurpose": "TxDefaultProfile",
        "chargingProfileKind": "Absolute",
        "validFrom": slot.isoformat(),
        "validTo": (slot + SLOT).isoformat(),
        "chargingSchedule": {
            "duration": int(SLOT.total_seconds()),
            "startSchedule": slot.isoformat(),
            "chargingRateUnit": "W",
            "chargingSchedulePeriod": [{"startPeriod": 0, "limit": limit_w}],
        },
    }


def limit_w(profile: Mapping[str, Any]) -> float:
    """The power a profile allows in its first period (what a charge point applies)."""
    return float(profile["chargingSchedule"]["chargingSchedulePeriod"][0]["limit"])
