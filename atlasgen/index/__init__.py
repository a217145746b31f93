"""Stage 5, index: search, names, details, pick cells, labels, licence changes and the published data files."""
