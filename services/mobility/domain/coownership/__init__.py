"""Co-owned EVs: members book the group's cars first, the hours left are offered to rides and deliveries, and
each period's costs are split by use, renewable share and ownership, to the sen.

Pure (no I/O, no clock): ``bookings`` (conflict-free bookings and the fleet's windows), ``energy`` (whose kWh
came from which charge, and how green), ``apportion`` (largest-remainder rounding), ``split`` (the bill).
Times are integer minutes from the period's start; money is integer sen; energy integer Wh.
"""
