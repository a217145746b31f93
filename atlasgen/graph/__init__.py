"""Stage 2, graph: the lineage DAG with every repair counted, focus, licence rules and trends statistics."""
