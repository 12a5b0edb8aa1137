"""What travels over HTTP, one module per area, kept apart from the events on Kafka."""
