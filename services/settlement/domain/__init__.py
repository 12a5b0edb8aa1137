"""The ledger's pure core: no SQL, no network, no clock of its own (times are passed in)."""
