"""Stage 1, ingest: snapshot readers behind a format registry, the Hub schema, fetching from the Hub, synthetic Hubs."""
