"""The pure core of incentive campaigns: rules, estimates and the allocation model (no I/O)."""
