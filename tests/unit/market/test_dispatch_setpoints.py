"""Dispatch set-points that follow contracts."""

from __future__ import annotations

from decimal import Decimal as D

from services.market.domain.dispatch import Contract, setpoints
from services.market.domain.registry import Device, Participant


def test_setpoints_split_by_power_and_respect_limits():
    """Net contracts are spread over storage by power and capped at what the power allows in a slot."""
    who = {"h": Participant("h", devices=(Device("bat", "battery", D("10"), D("3")), Device("ev", "ev", D("40"),
                                                                                              D("1")))),
           "x": Participant("x")}
    out = setpoints([Contract("t1", seller="x", buyer="h", kwh=D("4"))], who)
    by_device = {s.device: s.kwh for s in out}
    assert by_device == {"bat": D("1.5"), "ev": D("0.5")}
    assert all(s.trade_ids == ("t1",) for s in out)
