"""The publish stage: everything a site says about itself, written last, beside the index and the tiles.

``run`` writes ``snapshot.json``, the trends page, the viewer bundle and ``atlas.json``; ``write_report``
writes ``report.json`` once every stage's time is known. The stages' results come in as plain values, so
the orchestrator only passes them along.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from atlasgen.publish.manifest import build_report, site_manifest, write_json


@dataclass(frozen=True)
class Built:
    """What the earlier stages produced that the site describes."""

    graph_report: dict[str, Any]
    source: dict[str, Any]  # the snapshot's provenance (label, format, date, ...)
    layout_info: dict[str, Any]
    tiles: dict[str, Any]  # render_layers' result: layers, bytes, dropped
    data: dict[str, Any]  # the index stage's entry of atlas.json
    xy: Any  # world positions, one row per model
    seed: int
    budget_bytes: int
    since: dict[str, Any] | None = None  # the previous atlas this one continues (build --previous)
    snapshot_digest: str | None = None  # SHA-256 of the snapshot file; None for the embedded sample


def run(work: Path, built: Built, nodes: Any, edges: Any) -> dict[str, Any]:
    """Write the site's own files into ``work``; return the build report (without the run's facts yet)."""
    from atlasgen.artifacts import snapshot_manifest
    from atlasgen.graph.focus import manifest_entry
    from atlasgen.publish.site import write_site
    from atlasgen.publish.trends_page import write_trends

    report = build_report(built.graph_report, built.source, built.layout_info, built.seed)
    tiles = built.tiles
    report["tiles"] = {"bytes": tiles["bytes"], "dropped": tiles["dropped"], "budget": built.budget_bytes}
    data = {**built.data, "snapshot": "snapshot.json"}
    write_json(work / "snapshot.json", snapshot_manifest(built.source, report, built.snapshot_digest))
    manifest = site_manifest(
        report, built.source, tiles["layers"], data, built.layout_info, built.seed, built.xy
    )
    if (focused := manifest_entry(report)) is not None:
        manifest["focus"] = focused
    if built.since is not None:
        manifest["previous"] = report["previous"] = built.since
    manifest["trends"] = write_trends(nodes, edges, work, manifest["snapshot"])
    write_site(work, manifest)
    return report


def write_report(work: Path, report: dict[str, Any], timings: dict[str, float], reused: list[str]) -> None:
    """report.json, with the run's facts: the stage timings and the stages a resumed build reused."""
    report["timings_s"] = timings
    if reused:
        report["resumed"] = reused
    write_json(work / "report.json", report)
