"""Readers and writers at the edge of mobility: benchmark files, Kafka, the road network."""
