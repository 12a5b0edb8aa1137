"""Pure cores of logistics: vehicle routing with time windows and its independent checker (no I/O)."""
