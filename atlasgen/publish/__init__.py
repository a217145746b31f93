"""Stage 6, publish: the site writer, atlas.json and report.json, and the trends page."""
