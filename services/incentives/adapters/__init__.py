"""Adapters of the incentives service: Kafka handlers, HTTP routes, storage, and the simulated city."""
