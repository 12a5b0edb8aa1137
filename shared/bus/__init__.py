"""Transports that run a :class:`shared.runtime.Service`: in-process (demo, simulator) and Kafka (Faust)."""
