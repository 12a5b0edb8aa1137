"""Logistics (LaaS): parcels to homes by couriers and by EVs between their rides."""
