"""What a build says about itself: report.json, atlas.json (the site manifest) and the summary the CLI prints.

The pipeline hands this module the stages' results; it decides what goes where. ``reproducible`` names what
the same inputs reproduce byte for byte (everything but ``RUN_FACTS``).
"""

from __future__ import annotations

import json
from pathlib import Path, PurePath
from typing import Any

from atlasgen import __version__
from atlasgen.ingest.frames import LISTED_ROWS

# report.json keys that describe the run rather than the atlas: the stage timings, the stages a resumed build
# reused, and (under "layout") the layout's own timings, "seconds*". Everything else in the site is the same
# byte for byte for the same snapshot, seed and options on the CPU backend (tests/test_determinism.py).
RUN_FACTS = ("timings_s", "resumed")
# The snapshot's provenance keys that name local files: the snapshot and the node file that went with it.
SOURCE_FILES = ("path", "nodes")


def reproducible(report: dict[str, Any]) -> dict[str, Any]:
    """The build report without the run's facts (RUN_FACTS): what the same inputs reproduce exactly."""
    kept = {k: v for k, v in report.items() if k not in RUN_FACTS}
    if isinstance(kept.get("layout"), dict):
        kept["layout"] = {k: v for k, v in kept["layout"].items() if not k.startswith("seconds")}
    return kept


def previous_info(previous: Path, new_models: int) -> dict[str, Any]:
    """What the site says about the atlas this one continues: its snapshot date/label and how many are new."""
    info: dict[str, Any] = {"new_models": new_models}
    manifest = (previous if previous.is_dir() else previous.parent) / "snapshot.json"
    try:
        snap = json.loads(manifest.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return info  # a bare positions file: new models are still marked, just without a date
    if isinstance(snap, dict):
        info |= {k: snap[k] for k in ("date", "label") if isinstance(snap.get(k), str)}
    return info


def build_report(
    graph_report: dict[str, Any],
    source: dict[str, Any],
    layout_info: dict[str, Any],
    seed: int,
) -> dict[str, Any]:
    report = {"generator": {"name": "atlasgen", "version": __version__}, **graph_report}
    report["snapshot"] = published_source(source)
    report["layout"] = {k: v for k, v in layout_info.items() if _jsonable(v)} | {"seed": seed}
    return report


def published_source(source: dict[str, Any]) -> dict[str, Any]:
    """The snapshot's provenance as a site publishes it: its files (``SOURCE_FILES``) by name, never by the
    builder's local paths."""
    return {k: PurePath(str(v)).name if k in SOURCE_FILES else v for k, v in source.items()}


def site_manifest(
    report: dict[str, Any],
    source: dict[str, Any],
    layers: list[dict[str, Any]],
    data: dict[str, Any],
    layout_info: dict[str, Any],
    seed: int,
    xy: Any,
) -> dict[str, Any]:
    counts = {k: report[k] for k in ("models", "virtual", "edges", "edges_by_relation", "without_lineage")}
    counts |= {"repairs": report["repairs"], "dropped": report["dropped"]}
    return {
        "generator": report["generator"],
        "title": "Model Atlas",
        "snapshot": {k: source[k] for k in ("label", "format", "date") if k in source},
        "counts": counts,
        "world": {
            "size": layout_info.get("world", 256),
            "bounds": [float(v) for v in (*xy.min(axis=0), *xy.max(axis=0))],
        },
        "layers": layers,
        "data": data,
        "layout": {
            "algorithm": "forceatlas2",
            "backend": layout_info.get("backend"),
            "params": layout_info.get("params", {}),
            "regions": layout_info.get("regions", {}),
            "seed": seed,
        },
        "report": "report.json",
    }


def _jsonable(value: Any) -> bool:
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        return False
    return True


def write_json(path: Path, payload: Any) -> None:
    path.write_text(
        json.dumps(payload, indent=1, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8"
    )


def _without_parent(report: dict[str, Any]) -> str:
    """The roots (``without_lineage`` counts the models whose relation is ``base``: no documented parent,
    descendants or not), and how many of them have no lineage at all (the layout's undocumented region)."""
    line = f"models without a documented parent: {report['without_lineage']:,}"
    isolated = report.get("layout", {}).get("undocumented")
    if isinstance(isolated, int):
        line += f" ({isolated:,} without any lineage: the map's undocumented region)"
    return line


def summary_lines(report: dict[str, Any]) -> list[str]:
    """The build report in a few human lines (the CLI prints these)."""
    lines = [
        f"models: {report['models']:,} in atlas ({report['virtual']:,} virtual parents added), "
        f"{report['dropped_total']:,} dropped of {report['input_rows']:,} input rows",
        "edges: {:,} ({})".format(
            report["edges"], ", ".join(f"{k} {v:,}" for k, v in report["edges_by_relation"].items())
        ),
        _without_parent(report),
    ]
    from atlasgen.graph.focus import summary_line

    if (focused := summary_line(report)) is not None:
        lines.append(focused)
    if report["repairs"]:
        lines.append(
            "repairs: " + ", ".join(f"{k.replace('_', ' ')} {v:,}" for k, v in report["repairs"].items())
        )
    tiles = report.get("tiles", {})
    if tiles:
        from atlasgen.tiles.budget import format_size

        lines.append(
            f"tiles: {format_size(tiles['bytes'])}, the whole site within its "
            f"{format_size(tiles['budget'])} budget"
        )
        lines.extend(f"tiles dropped: {reason}" for reason in tiles["dropped"])
    for reason, count in report["dropped"].items():
        listed = "rows listed" if count <= LISTED_ROWS else f"the first {LISTED_ROWS:,} rows listed"
        lines.append(f"dropped ({reason}): {count:,} — {listed} in report.json")
    layout = report.get("layout", {})
    if layout.get("backend"):
        lines.append(f"layout: {layout['backend']} backend — {layout.get('reason', '')}")
    stability = layout.get("stability")
    if stability and stability.get("survivors"):
        lines.append(
            f"stability: {stability['survivors']:,} models kept from the previous atlas; displacement "
            f"median {stability['median']:.2%}, p95 {stability['p95']:.2%} of the map's extent"
        )
    if report.get("resumed"):
        lines.append(f"resumed: {', '.join(report['resumed'])} reused from an interrupted build")
    if "timings_s" in report:
        lines.append("time: " + ", ".join(f"{k} {v:.1f}s" for k, v in report["timings_s"].items()))
    return lines
