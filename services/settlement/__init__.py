"""Settlement: records every matched energy trade once on a tamper-evident, double-entry ledger.

* ``domain/`` — the pure rules: money and rounding, postings, the hash chain and its signatures, entry kinds
  (``domain/kinds/``, one module each, listed in ``registry.py``), Merkle anchors, certificates and the
  retirement rule, verification, reconciliation, statements. No SQL, no I/O.
* ``ports.py`` — the ``Ledger`` port (writes) and the ``LedgerReadModel`` port (reads, typed rows).
* ``store.py`` / ``read_model.py`` — their SQL adapters (PostgreSQL/SQLite; readers open read-only);
  ``memory.py`` — the in-memory fake for unit tests; ``schema.py``, ``migrations/`` (Alembic, run by
  ``store.open_ledger`` only).
* ``service.py`` — the bus service: trades in, receipts and anchors out; ``events.py`` its own events;
  ``anchor_file.py`` the public anchors file; ``export.py`` the export format.
* ``views.py`` — read-only participant and operator views for the gateway; ``cli.py`` — ``citymatch ledger``.
"""
