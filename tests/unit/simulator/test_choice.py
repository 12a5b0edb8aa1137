"""The offer-acceptance logit is calibrated on the published programmes and behaves sensibly."""

from __future__ import annotations

import numpy as np

from simulator.choice import CALIBRATED, PROGRAMMES, calibrate, calibration_table, coupon_table


def test_fit_reproduces_each_programme_within_two_points():
    """Fitted acceptance is within 2 percentage points of INSINC, pre-peak and BART Perks."""
    for row in calibration_table():
        assert abs(row["fitted"] - row["observed"]) < 0.02, row


def test_anchor_values_are_the_published_ones():
    """The anchors are 10 % (INSINC), 7 % (free pre-peak) and 250/2,600 (BART Perks)."""
    observed = {p.name: p.observed for p in PROGRAMMES}
    assert observed == {"INSINC": 0.10, "Free pre-peak travel": 0.07, "BART Perks": 250 / 2600}


def test_more_reward_helps_bigger_shift_hurts():
    """Acceptance rises with the reward and falls with the size of the change."""
    p = CALIBRATED
    low, high = p.accept_probability([50, 200], 20, "shift_later", "commute_in")
    assert high > low
    near, far = p.accept_probability(100, np.array([10, 60]), "shift_later", "commute_in")
    assert near > far


def test_calibration_is_deterministic():
    """Calibrating twice gives the same parameters."""
    assert calibrate() == calibrate()


def test_hundred_yen_coupon_table_is_plausible():
    """A 100-yen offer moves 5-30 % of commuters in time and more shoppers than commuters."""
    rows = {r["offer"]: r for r in coupon_table(100)}
    assert 0.05 < rows["shift_later"]["commute_in"] < 0.30
    assert rows["shift_later"]["shopping"] > rows["shift_later"]["commute_in"]
    assert all(0 < r[p] < 1 for r in rows.values() for p in ("commute_in", "shopping", "leisure"))
