"""EV charging routed to local renewable energy, driver first: planner, charger protocol, service."""
