"""Remote monitoring (远程监测): terminal protocol, ingestion, the fault detector, live status, archive."""
