"""The orchestrator (a flat list of stages), the stage cache for --resume and the atomic output directory."""
