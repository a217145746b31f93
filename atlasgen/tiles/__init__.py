"""Stage 4, tiles: one layer table, pixel geometry, rendering, executors and the site's size budget."""
