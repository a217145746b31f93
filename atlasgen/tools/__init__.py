"""Commands that read a built atlas or a snapshot: diff, lineage, predict, figure, serve."""
