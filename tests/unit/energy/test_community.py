"""The community model: the seed's make-up, the real weather, and seeded determinism."""

from __future__ import annotations

import numpy as np

from simulator.energy.community import AWAY, SLOTS_PER_DAY, build_community
from simulator.energy.params import CommunityParams, describe, load_params
from simulator.energy.weather import pv_kwh_per_kwp


def test_the_community_is_the_pilots(params, climate):
    """1 office and 20 homes, 4 of them with a battery, 9 plug-in hybrids, PV at homes and at the office."""
    c = build_community(params, climate)
    homes = [s for s in c.sites if s.kind == "home"]
    assert len(homes) == 20 and [s.kind for s in c.sites].count("office") == 1
    assert sum(s.battery_kwh > 0 for s in homes) == 4
    assert len(c.cars) == 9 and all(c.sites[car.home].kind == "home" for car in c.cars)
    assert c.sites[c.office].pv_kwp > 0 and sum(s.pv_kwp > 0 for s in homes) > 0
    assert c.horizon == params.days * SLOTS_PER_DAY


def test_commuters_are_at_the_office_on_weekdays_and_trips_take_energy(params, climate):
    c = build_community(params, climate)
    for car in c.cars:
        day = car.loc[:SLOTS_PER_DAY]
        assert (day == c.office).sum() >= 18          # about 9 hours at the office
        assert day[0] == car.home and day[-1] == car.home
        assert (day == AWAY).sum() == 2               # two 30-minute drives
        assert np.isclose(car.drive_kwh[:SLOTS_PER_DAY].sum(), 2 * params.trip_kwh)
        departures = np.nonzero(car.need_kwh[:SLOTS_PER_DAY])[0]
        assert len(departures) == 2 and (car.need_kwh[departures] > params.trip_kwh).all()


def test_weekend_cars_stay_home_except_one_trip(climate):
    c = build_community(CommunityParams(days=5), climate)   # 2019-05-04 is a Saturday
    assert c.weekend.tolist() == [False, False, False, True, True]
    sat = c.cars[0].loc[3 * SLOTS_PER_DAY:4 * SLOTS_PER_DAY]
    assert c.office not in sat and (sat == AWAY).sum() == 4


def test_real_weather_gives_plausible_pv(climate):
    """8,760 hours; PV only while the sun is up; May's yield per kWp in the range of Japanese systems."""
    assert len(climate.ghi_w_m2) == 8760 and climate.ghi_w_m2.min() >= 0
    may = pv_kwh_per_kwp(climate, 5, performance_ratio=0.8).reshape(31, SLOTS_PER_DAY)
    assert may[:, :8].sum() == 0 and may[:, 44:].sum() == 0   # nothing before 04:00 or after 22:00
    assert 90 < may.sum() < 160
    assert may.sum(axis=1).std() > 0.5                          # cloudy and clear days, not a clear-sky curve


def test_same_seed_same_month_other_seed_other_loads(climate):
    a = build_community(CommunityParams(days=4, seed=7), climate)
    b = build_community(CommunityParams(days=4, seed=7), climate)
    other = build_community(CommunityParams(days=4, seed=8), climate)
    assert np.array_equal(a.load(), b.load()) and all(np.array_equal(x.loc, y.loc) for x, y in zip(a.cars, b.cars,
                                                                                                  strict=True))
    assert not np.array_equal(a.load(), other.load())


def test_every_parameter_is_documented(tmp_path):
    """The report's assumptions table has a unit-or-source line for every field; a file may override them."""
    rows = describe(CommunityParams())
    assert all(r[4] for r in rows), [r[0] for r in rows if not r[4]]
    path = tmp_path / "p.json"
    path.write_text('{"office_pv_kwp": 80, "homes": [{"name": "x", "count": 2, "daily_load_kwh": 8}]}')
    p = load_params(path, days=2)
    assert p.office_pv_kwp == 80 and p.n_homes == 2 and p.days == 2
    path.write_text('{"office_pv": 80}')
    try:
        load_params(path)
    except ValueError as exc:
        assert "office_pv" in str(exc)
    else:
        raise AssertionError("an unknown parameter must be refused")
