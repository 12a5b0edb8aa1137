"""Logistics' co-owned cars: the residents' EVs lent as couriers in the hours their members leave free.

Logistics keeps its own list (ids as in the group's book on ``mobility.coowned``, the group, what each car
carries as a courier, its carport on the drive network and the depots it serves): services share only the
contracts, so these are settings here, not a read of mobility's. Mobility's book decides every hold.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class CoownedCar:
    id: str                         # the car's id in its group's book
    group: str                      # the co-owning group (its book on mobility.coowned; paid the payout)
    capacity_g: int                 # what it carries as a courier, grams
    max_parcels: int                # parcels per round (what fits behind the seats)
    carport: tuple[str, str] = ("ref", "LF72")   # (key, value) of its carport's node on the drive network
    depots: tuple[str, ...] = ("lalaport", "vinawalk")

    def __post_init__(self) -> None:
        if not self.id or not self.group:
            raise ValueError("a co-owned car needs its id and its group")
        if self.capacity_g <= 0 or self.max_parcels <= 0:
            raise ValueError(f"car {self.id}: capacity_g and max_parcels must be positive")


def default_coowned_cars() -> tuple[CoownedCar, ...]:
    """The Ebina group's two EVs at their carport (the EV station LF72 on the schematic network): the Leaf
    (4 seats) carries 100 kg and 20 parcels, the Sakura (3 seats, a kei car) 60 kg and 12."""
    return (CoownedCar("ev-leaf", "ebina-kashiwa-ev", 100_000, 20),
            CoownedCar("ev-sakura", "ebina-kashiwa-ev", 60_000, 12))


def load_coowned_cars(path: Path) -> tuple[CoownedCar, ...]:
    """Cars from a JSON file (``CITYMATCH_LOGISTICS_COOWNED_CARS``): ``[{"id", "group", "capacity_kg",
    "max_parcels", "carport" (a node's ref, default LF72), "depots" (default both)}]``; ``[]`` lends none. Ids and
    groups must be those of the groups' book (``CITYMATCH_MOBILITY_COOWNED_GROUPS``)."""
    cars = []
    for c in json.loads(path.read_text(encoding="utf-8")):
        cars.append(CoownedCar(str(c["id"]), str(c["group"]), round(float(c["capacity_kg"]) * 1000),
                               int(c["max_parcels"]), ("ref", str(c.get("carport", "LF72"))),
                               tuple(str(d) for d in c.get("depots", ("lalaport", "vinawalk")))))
    return tuple(cars)
