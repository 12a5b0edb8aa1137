"""The energy community simulator: the Higashi-Fuji pilot on four platforms (grid only, the P2P market,
a central optimiser, independent microgrids), its metrics and its reports."""
