"""Tile benchmark: atlasgen's renderer vs ``datashader.tiles.render_tiles``, and a whole synthetic Hub.

Each render runs in its own subprocess; the parent samples the memory of the child's whole process tree (the
pool's workers included) every 100 ms and reports its peak. Memory is PSS (proportional set size): forked
workers share the parent's pages copy-on-write, and summing their RSS would count those pages once per
worker; for a single process PSS ≈ RSS.

    # points/edges parquet files (x, y, relation, downloads, pipeline_tag, licence / x0, y0, x1, y1, relation)
    python benchmarks/bench_tiles.py compare POINTS.parquet --n 1000000 --max-zoom 6
    python benchmarks/bench_tiles.py hub POINTS.parquet EDGES.parquet

``compare`` renders the relation layer of the same n points at zooms 0..max-zoom, 256 px, with both.
Datashader's ``render_tiles`` assumes Web Mercator: our square world [0, 256]² (y down) is mapped onto the
Mercator square (±20037508.34 m, y up), so its tile (z, x, y) is ours. What differs: it aggregates every
super-tile of a level twice (once for the span, kept in memory, then shaded), shades whole super-tiles,
writes every tile including empty ones, as RGBA PNGs, and has no marker stamping (points stay one pixel;
its span is the level's min/max rather than our quantile).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HALF = 20037508.34


def _run_ours(
    points: str, n: int, max_zoom: int, out: str, layers: list[str], edges: str | None
) -> dict[str, Any]:
    import pandas as pd

    from atlasgen.tiles.pyramid import render_layers

    pts = pd.read_parquet(points)
    if n and n < len(pts):
        pts = pts.sample(n, random_state=0)
    e = pd.read_parquet(edges) if edges else None
    start = time.perf_counter()
    result = render_layers(
        pts, e, Path(out), max_zoom=max_zoom if max_zoom >= 0 else None, layers=layers, progress=False
    )
    seconds = time.perf_counter() - start
    return {
        "seconds": seconds,
        "layers": [
            {k: layer[k] for k in ("id", "min_zoom", "max_zoom", "tiles", "bytes")}
            for layer in result["layers"]
        ],
        "dropped": result["dropped"],
    }


def _run_datashader(points: str, n: int, max_zoom: int, out: str) -> dict[str, Any]:
    import dask
    import datashader as ds
    import datashader.transfer_functions as tf
    import numpy as np
    import pandas as pd
    from datashader.tiles import render_tiles

    from atlasgen.tiles.palette import RELATION, popularity_weight

    pts = pd.read_parquet(points)
    if n and n < len(pts):
        pts = pts.sample(n, random_state=0)
    frame = pd.DataFrame(
        {
            "x": pts["x"].to_numpy() / 256 * 2 * HALF - HALF,
            "y": HALF - pts["y"].to_numpy() / 256 * 2 * HALF,
            "relation": pd.Categorical(pts["relation"], categories=list(RELATION.categories)),
            "w": popularity_weight(pts["downloads"].to_numpy()),
        }
    )

    def load(x_range: tuple[float, float], y_range: tuple[float, float]) -> pd.DataFrame:
        x, y = frame["x"].to_numpy(), frame["y"].to_numpy()
        return frame[(x >= x_range[0]) & (x <= x_range[1]) & (y >= y_range[0]) & (y <= y_range[1])]

    def rasterize(df: pd.DataFrame, x_range: Any, y_range: Any, height: int, width: int) -> Any:
        canvas = ds.Canvas(plot_width=width, plot_height=height, x_range=x_range, y_range=y_range)
        return canvas.points(df, "x", "y", agg=ds.by("relation", ds.sum("w")))

    def shade(agg: Any, span: Any = None) -> Any:
        return tf.shade(agg, color_key=RELATION.colors, how="log", span=list(span), min_alpha=190)

    start = time.perf_counter()
    with dask.config.set(scheduler="threads"):
        render_tiles((-HALF, -HALF, HALF, HALF), range(max_zoom + 1), load, rasterize, shade, None, out)
    seconds = time.perf_counter() - start
    files = list(Path(out).rglob("*.png"))
    return {
        "seconds": seconds,
        "tiles": len(files),
        "bytes": sum(f.stat().st_size for f in files),
        "np": np.__version__,
    }


def _measure(args: list[str]) -> dict[str, Any]:
    """Run this script's ``_child`` mode in a subprocess; peak RSS over its process tree."""
    import psutil

    with tempfile.NamedTemporaryFile(suffix=".json") as result:
        proc = subprocess.Popen([sys.executable, __file__, "_child", result.name, *args])
        parent, peak = psutil.Process(proc.pid), 0
        while proc.poll() is None:
            try:
                tree = [parent, *parent.children(recursive=True)]
                peak = max(peak, sum(p.memory_full_info().pss for p in tree if p.is_running()))
            except psutil.Error:
                pass
            time.sleep(0.1)
        if proc.returncode:
            raise SystemExit(f"{args}: exit {proc.returncode}")
        out = json.loads(Path(result.name).read_text())
    return out | {"peak_rss_mb": round(peak / 1e6)}


def main() -> None:
    if sys.argv[1] == "_child":
        _, _, result_path, kind, *rest = sys.argv
        points, n, max_zoom, out = rest[0], int(rest[1]), int(rest[2]), rest[3]
        if kind == "datashader":
            res = _run_datashader(points, n, max_zoom, out)
        else:
            layers, edges = rest[4].split(","), (rest[5] or None)
            res = _run_ours(points, n, max_zoom, out, layers, edges)
        Path(result_path).write_text(json.dumps(res))
        return
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=["compare", "hub"])
    parser.add_argument("points")
    parser.add_argument("edges", nargs="?", default="")
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--max-zoom", type=int, default=-1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-tiles-") as tmp:
        if args.mode == "compare":
            zoom = 6 if args.max_zoom < 0 else args.max_zoom
            ours = _measure(["ours", args.points, str(args.n), str(zoom), f"{tmp}/ours", "relation", ""])
            theirs = _measure(["datashader", args.points, str(args.n), str(zoom), f"{tmp}/ds"])
            print(f"{args.n:,} points, zoom 0-{zoom}, 256 px, relation layer")
            print("| renderer | time | peak RSS | tiles | bytes |")
            print("|---|---|---|---|---|")
            layer = ours["layers"][0]
            print(
                f"| atlasgen | {ours['seconds']:.1f} s | {ours['peak_rss_mb']} MB | {layer['tiles']} | {layer['bytes']:,} |"
            )
            print(
                f"| datashader.tiles.render_tiles | {theirs['seconds']:.1f} s | {theirs['peak_rss_mb']} MB "
                f"| {theirs['tiles']} | {theirs['bytes']:,} |"
            )
            print(
                f"ratio: {theirs['seconds'] / ours['seconds']:.1f}x faster, "
                f"{theirs['peak_rss_mb'] / ours['peak_rss_mb']:.1f}x less peak memory"
            )
        else:
            total = 0
            print("| layer | zooms | tiles | bytes | time | peak RSS |")
            print("|---|---|---|---|---|---|")
            from atlasgen.tiles.table import DEFAULT_LAYERS

            for layer in DEFAULT_LAYERS:
                res = _measure(
                    ["ours", args.points, "0", str(args.max_zoom), f"{tmp}/hub", layer, args.edges]
                )
                for entry in res["layers"]:
                    total += entry["bytes"]
                    print(
                        f"| {entry['id']} | {entry['min_zoom']}-{entry['max_zoom']} | {entry['tiles']:,} "
                        f"| {entry['bytes'] / 1e6:.1f} MB | {res['seconds']:.1f} s | {res['peak_rss_mb']} MB |"
                    )
                for reason in res["dropped"]:
                    print(f"| {layer} | dropped: {reason} | | | | |")
            print(f"total tiles: {total / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
