"""Thin adapters around the pure market core (files, the bus)."""
