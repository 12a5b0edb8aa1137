"""Adapters of the settlement service to what is outside it (Kafka topics read for audits)."""
