"""Pure cores of mobility: dial-a-ride model, streaming insertion, re-optimisation, checker (no I/O)."""
