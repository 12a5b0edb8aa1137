"""Example community files shipped with the market (read by ``adapters.community_yaml``)."""
