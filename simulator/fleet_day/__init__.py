"""The multi-purpose EV day: one fleet for rides, parcels and PV-soaking charging, planned jointly against
each domain planned on its own (``citymatch report fleet-day``)."""
