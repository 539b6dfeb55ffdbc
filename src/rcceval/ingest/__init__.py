"""rcceval.ingest."""
