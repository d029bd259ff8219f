"""The data's way in: the platform simulator, the collector (Kafka -> Cassandra) and the Spark ingest jobs."""
