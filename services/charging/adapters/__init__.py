"""Adapters of the charging service: the OCPP 1.6J central system, simulated charge points, Kafka wiring."""
