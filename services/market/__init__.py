"""EaaS peer-to-peer energy market: bidding agents, a per-slot order book and welfare-maximising clearing."""
