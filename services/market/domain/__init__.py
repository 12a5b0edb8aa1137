"""Pure market rules: no I/O, no bus, no clock (time is always passed in)."""
