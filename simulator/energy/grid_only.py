"""The conventional platform: the grid is the only source and the only buyer, at the tariffs.

Each home's battery serves its own home (charges from its PV surplus, discharges to its load); a plug-in
hybrid charges at full power from the moment it is plugged in at home until full (no office charging:
the office sells its employees nothing); PV surplus is sold to the grid at the buy-back price.
"""

from __future__ import annotations

import numpy as np

from simulator.energy.community import SLOT_H, CommunityDays
from simulator.energy.outcome import Account, Outcome


def run_grid_only(community: CommunityDays) -> Outcome:
    c, p = community, community.params
    out = Outcome.empty("grid_only", c)
    T = c.horizon
    load, pv = c.load(), c.pv()
    cap = np.array([s.battery_kwh for s in c.sites])
    power = np.array([s.battery_kw for s in c.sites]) * SLOT_H
    out.battery_soc[:, 0] = cap * p.battery_soc0_pct / 100
    car_cap = p.phev_battery_kwh
    out.car_soc[:, 0] = car_cap * p.phev_soc0_pct / 100
    for t in range(T):
        car_draw = np.zeros(len(c.sites))
        for v, car in enumerate(c.cars):
            soc = out.car_soc[v, t]
            if car.loc[t] == car.home:
                out.car_in[v, t] = min(p.phev_charge_kw * SLOT_H, car_cap - soc)
                car_draw[car.home] += out.car_in[v, t]
            soc += out.car_in[v, t]
            if car.drive_kwh[t] > soc:
                out.petrol_kwh[v] += car.drive_kwh[t] - soc
            out.car_soc[v, t + 1] = max(0.0, soc - car.drive_kwh[t])
        net = load[:, t] + car_draw - pv[:, t]
        soc = out.battery_soc[:, t]
        dis = np.minimum(np.clip(net, 0, None), np.minimum(power, soc))
        chg = np.minimum(np.clip(-net, 0, None), np.minimum(power, cap - soc))
        out.battery_out[:, t], out.battery_in[:, t] = dis, chg
        out.battery_soc[:, t + 1] = soc + chg - dis
        rest = net - dis + chg
        out.import_kwh[:, t] = np.clip(rest, 0, None)
        out.export_kwh[:, t] = np.clip(-rest, 0, None)
    out.accounts = {}
    for s, site in enumerate(c.sites):
        acct = Account()
        acct.buy(float(out.import_kwh[s].sum()), site.tariff)
        acct.sell(float(out.export_kwh[s].sum()), p.buyback)
        out.accounts[site.id] = acct
    out.car_accounts = {}
    for v, car in enumerate(c.cars):
        acct = Account()
        acct.buy(float(out.car_in[v].sum()), c.sites[car.home].tariff)
        out.car_accounts[car.id] = acct
    return out
