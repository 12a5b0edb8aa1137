"""Mobility (MaaS): ride requests dispatched to shuttles, taxis and car-share EVs."""
