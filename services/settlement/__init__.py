"""Settlement: records every matched energy trade once on a tamper-evident, double-entry ledger.

* ``domain/`` — the pure rules: money and rounding, postings, the hash chain and its signatures,
  Merkle anchors, certificates, verification, reconciliation, statements. No SQL, no I/O.
* ``store.py`` — the ledger on PostgreSQL/SQLite (the sequencer, exactly-once writes, scoped reads);
  ``schema.py`` and ``migrations/`` (Alembic, run on open by ``migrate.py``).
* ``service.py`` — the bus service: trades in, receipts and anchors out; ``events.py`` its own events.
* ``views.py`` — read-only participant and operator views for the gateway; ``cli.py`` — ``citymatch ledger``.
"""
