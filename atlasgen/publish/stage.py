"""The publish stage: everything a site says about itself, written around the tiles.

``prepare`` (before the tiles stage) writes what the tiles do not change: ``snapshot.json``, the trends page
and the viewer bundle, and ``atlas.json`` and ``report.json`` as drafts without tile layers and with the
run's facts at their widest. So the site measured then is, but for the tile layers' entries (which
``entry_bytes`` bounds for the budget), at least as large as the finished one: the budget counts every
file. ``finish`` rewrites atlas.json with the layers and ``write_report`` report.json once every stage's time
is known. The stages' results come in as plain values, so the orchestrator only passes them along.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from atlasgen.jsonio import dumps
from atlasgen.publish.manifest import build_report, site_manifest, write_json

# A number wider than any size or time a build reports (10^15 bytes, or seconds): the drafts' placeholder.
WIDEST = 10**15 - 1
# report.json's line for one reason in the tiles' dropped list: they run to ~90 characters.
REASON_BYTES = 256


@dataclass(frozen=True)
class Built:
    """What the stages before the tiles produced that the site describes."""

    graph_report: dict[str, Any]
    source: dict[str, Any]  # the snapshot's provenance (label, format, date, ...)
    layout_info: dict[str, Any]
    data: dict[str, Any]  # the index stage's entry of atlas.json
    xy: Any  # world positions, one row per model
    seed: int
    since: dict[str, Any] | None = None  # the previous atlas this one continues (build --previous)
    snapshot_digest: str | None = None  # SHA-256 of the snapshot file; None for the embedded sample


@dataclass(frozen=True)
class Draft:
    """The build report and atlas.json so far: everything but what the tiles stage decides."""

    report: dict[str, Any]
    manifest: dict[str, Any]


def prepare(work: Path, built: Built, nodes: Any, edges: Any, stages: Sequence[str]) -> Draft:
    """Write every site file but the tiles into ``work``, atlas.json and report.json as drafts no smaller
    than they will be without tile layers (``stages``: the names report.json may time)."""
    from atlasgen.artifacts import snapshot_manifest
    from atlasgen.graph.focus import manifest_entry
    from atlasgen.publish.site import write_site
    from atlasgen.publish.trends_page import write_trends

    report = build_report(built.graph_report, built.source, built.layout_info, built.seed)
    data = {**built.data, "snapshot": "snapshot.json"}
    write_json(work / "snapshot.json", snapshot_manifest(built.source, report, built.snapshot_digest))
    manifest = site_manifest(report, built.source, [], data, built.layout_info, built.seed, built.xy)
    if (focused := manifest_entry(report)) is not None:
        manifest["focus"] = focused
    if built.since is not None:
        manifest["previous"] = report["previous"] = built.since
    manifest["trends"] = write_trends(nodes, edges, work, manifest["snapshot"])
    write_site(work, manifest)
    widest = {**report, "tiles": {"bytes": WIDEST, "dropped": [], "budget": WIDEST}}
    write_report(work, widest, dict.fromkeys(stages, WIDEST + 0.001), list(stages))
    return Draft(report, manifest)


def entry_bytes(entry: dict[str, Any]) -> int:
    """At most what a tile layer's atlas.json ``entry`` adds to the site: the entry itself as atlas.json
    holds it, with its tile-existence bitmaps (site.tile_index: a bit per tile of each level, base64), and
    two reasons in report.json's dropped list (a layer can be cut short, then dropped)."""
    from atlasgen.publish.site import MAX_INDEXED_ZOOM

    zooms = range(entry["min_zoom"], min(entry["max_zoom"], MAX_INDEXED_ZOOM) + 1)
    bitmaps = {str(z): "A" * 4 * math.ceil(((1 << 2 * z) + 7) // 8 / 3) for z in zooms}
    return len(dumps({**entry, "exists": bitmaps}).encode()) + len(",") + 2 * REASON_BYTES


def finish(work: Path, draft: Draft, tiles: dict[str, Any], budget_bytes: int) -> dict[str, Any]:
    """Write atlas.json with the tile layers; return the build report (without the run's facts yet)."""
    from atlasgen.publish.site import write_manifest

    report = {**draft.report}
    report["tiles"] = {"bytes": tiles["bytes"], "dropped": tiles["dropped"], "budget": budget_bytes}
    write_manifest(
        work, {**draft.manifest, "layers": tiles["layers"]}
    )  # the viewer is in place since prepare
    return report


def write_report(work: Path, report: dict[str, Any], timings: dict[str, float], reused: list[str]) -> None:
    """report.json, with the run's facts: the stage timings and the stages a resumed build reused."""
    report["timings_s"] = timings
    if reused:
        report["resumed"] = reused
    write_json(work / "report.json", report)
