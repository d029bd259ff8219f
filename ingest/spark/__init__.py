"""Spark jobs of the ingest: pure transforms (``transforms``) and the job that does the I/O (``ingest_job``)."""
