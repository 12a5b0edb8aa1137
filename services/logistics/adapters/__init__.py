"""Readers and writers at the edge of logistics: benchmark files, Kafka, the road network."""
