"""What a platform did over the simulated days, as arrays, and the books of each account.

Every platform fills the same :class:`Outcome`, so the metrics and the energy balance are computed one way.
Per site and slot the balance is, in kWh:

    pv - curtailed + import - export + received - sent + battery_out - battery_in
       + sum over the cars plugged in there of (car_out - car_in) = load

``sent``/``received`` travel between sites over the grid's wires (the wheeling fee is due on them);
energy traded inside one site (a private line, tier A) never shows up in them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from simulator.energy.community import AWAY, CommunityDays


@dataclass
class Account:
    """An account's trade with everyone outside it (a household's home and car count as one account)."""

    bought_kwh: float = 0.0
    paid_yen: float = 0.0
    sold_kwh: float = 0.0
    received_yen: float = 0.0
    fees_yen: float = 0.0   # wheeling on energy sent between the account's own places (a car at the office
    #                         feeding its own home)

    @property
    def net_cost_yen(self) -> float:
        return self.paid_yen + self.fees_yen - self.received_yen

    def buy(self, kwh: float, price: float) -> None:
        self.bought_kwh += kwh
        self.paid_yen += kwh * price

    def sell(self, kwh: float, price: float) -> None:
        self.sold_kwh += kwh
        self.received_yen += kwh * price


@dataclass
class Outcome:
    platform: str
    community: CommunityDays
    import_kwh: np.ndarray
    export_kwh: np.ndarray
    curtailed_kwh: np.ndarray
    sent_kwh: np.ndarray
    received_kwh: np.ndarray
    battery_in: np.ndarray
    battery_out: np.ndarray
    battery_soc: np.ndarray      # (S, T + 1) kWh at the start of each slot
    car_in: np.ndarray           # (V, T) charged where the car is plugged in
    car_out: np.ndarray          # (V, T) discharged there
    car_soc: np.ndarray          # (V, T + 1)
    petrol_kwh: np.ndarray       # (V,) trip energy the battery lacked (the engine drove it)
    accounts: dict[str, Account] | None = None   # per account, where the platform has individual bills
    car_accounts: dict[str, Account] | None = None  # each car's own trades (its purchases and sales)
    detail: dict[str, object] = field(default_factory=dict)

    @classmethod
    def empty(cls, platform: str, community: CommunityDays) -> Outcome:
        S, V, T = len(community.sites), len(community.cars), community.horizon
        per_site = [np.zeros((S, T)) for _ in range(7)]
        return cls(platform, community, *per_site, np.zeros((S, T + 1)), np.zeros((V, T)), np.zeros((V, T)),
                   np.zeros((V, T + 1)), np.zeros(V))

    def car_net_at_sites(self) -> np.ndarray:
        """(S, T): what the cars plugged in at each site drew from it (charge - discharge)."""
        c = self.community
        out = np.zeros((len(c.sites), c.horizon))
        for v, car in enumerate(c.cars):
            here = car.loc != AWAY
            np.add.at(out, (car.loc[here], np.nonzero(here)[0]), (self.car_in[v] - self.car_out[v])[here])
        return out

    def balance_residual(self) -> np.ndarray:
        """(S, T) supply - demand per site and slot; zero (to rounding) for a physically consistent run."""
        c = self.community
        supply = c.pv() - self.curtailed_kwh + self.import_kwh - self.export_kwh + self.received_kwh \
            - self.sent_kwh + self.battery_out - self.battery_in
        return supply - c.load() - self.car_net_at_sites()

    def community_cost_yen(self) -> float:
        """What the community pays outside itself: grid energy at each site's tariff, wheeling fees, minus
        what the grid pays for exports. Trades between members are transfers and cancel out."""
        p = self.community.params
        tariffs = self.community.tariffs()[:, None]
        return float((self.import_kwh * tariffs).sum() - self.export_kwh.sum() * p.buyback
                     + self.received_kwh.sum() * p.wheeling_fee)
