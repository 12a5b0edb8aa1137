"""A seeded co-owned EV group near Ebina station: a month of members' bookings, the fleet's jobs in the hours
left, PV-first charging at the group's carport, and each member's bill (``citymatch report co-owned``)."""
