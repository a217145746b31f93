"""The `atlasgen` command line: thin click commands; the work happens in lazily imported stage modules.

Every tool command has one shape: check the options (cli_checks.py, which names the flags), call the tool's
``run(...)`` for a result, ``render(result, fmt)`` it and write the text to stdout or ``--out``. Options that
several commands share are defined once in cli_options.py.
"""

from __future__ import annotations

import logging
from pathlib import Path

import click

from atlasgen import __version__
from atlasgen.cli_checks import abort_if
from atlasgen.cli_options import (
    atlas_option,
    nodes_option,
    options,
    out_option,
    output_format_option,
    quiet_option,
    resume_option,
    seed_option,
    snapshot_format_option,
)

BACKENDS = click.Choice(["auto", "cpu", "gpu"])


@click.group(name="atlasgen", context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="atlasgen")
@click.option("-v", "--verbose", is_flag=True, help="Log each stage and the layout backend choice.")
def cli(verbose: bool) -> None:
    """Chart the Hugging Face Hub as a Model Atlas: models as points, lineage as edges, a static tiled map."""
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, format="%(message)s")


def emit(text: str, out: Path | None = None) -> None:
    """A command's report: to `out` when given, else to stdout."""
    if out is None:
        click.echo(text, nl=False)
    else:
        out.write_text(text, encoding="utf-8")


@cli.command()
@click.argument("snapshot", required=False, type=click.Path(path_type=Path, dir_okay=False))
@options(
    out_option(
        "Directory for the site; replaced atomically at the end of a successful build.",
        required=True,
        file_okay=False,
        dir_okay=True,
    ),
    snapshot_format_option(
        "--format", "fmt", help="Snapshot format; default: from the file name (.parquet, .jsonl, .csv)."
    ),
    nodes_option(
        "--nodes",
        help="Node CSV (id,author,downloads,likes,licence,pipeline_tag,library_name,created_at) "
        "for an edge CSV snapshot.",
        dir_okay=False,
    ),
    seed_option("Seed for the layout; same seed, same map."),
)
@click.option(
    "--backend",
    type=BACKENDS,
    default="auto",
    show_default=True,
    help="ForceAtlas2 backend: cpu (numba), gpu (cuGraph, needs the gpu extra), or auto.",
)
@click.option("--max-iter", default=300, show_default=True, help="ForceAtlas2 iterations per component.")
@click.option(
    "--max-zoom", type=click.IntRange(0, 12), help="Deepest tile zoom; default: from point density."
)
@click.option(
    "--previous",
    type=click.Path(path_type=Path, exists=True),
    help="An earlier atlas (directory or its positions.parquet): surviving models keep their positions.",
)
@click.option(
    "--budget",
    default="1GB",
    show_default=True,
    help="Largest the whole site may be (e.g. 600MB, 1GB): the deepest zooms and least important layers "
    "that don't fit are dropped, and the summary says which.",
)
@click.option(
    "--layers",
    default="relation,edges,task,licence",
    show_default=True,
    help="Tile layers to render, comma-separated, in priority order for the budget (relation is required): "
    "relation, edges, task, licence, and new (models added since --previous; added by default with it).",
)
@click.option("--retina", is_flag=True, help="Also write 512-px tiles for high-DPI screens and print.")
@click.option("--workers", type=click.IntRange(1), help="Processes for tile rendering; default: all cores.")
@click.option(
    "--dask-scheduler",
    metavar="ADDRESS",
    help="Render tiles on this existing Dask cluster (e.g. tcp://10.0.0.5:8786); needs atlasgen[dask].",
)
@resume_option("Reuse the stages an interrupted build into OUT completed for the same snapshot and options.")
@click.option(
    "--focus",
    multiple=True,
    metavar="MODEL_ID|org:NAME",
    help="Chart only this model's family (its connected lineage: ancestors, descendants and their "
    "relatives) or an organisation's models with their families; repeat to combine.",
)
@quiet_option("No progress bars or summary.")
def build(
    snapshot: Path | None,
    out: Path,
    fmt: str | None,
    nodes: Path | None,
    seed: int,
    backend: str,
    max_iter: int,
    max_zoom: int | None,
    previous: Path | None,
    budget: str,
    layers: str,
    retina: bool,
    workers: int | None,
    dask_scheduler: str | None,
    resume: bool,
    focus: tuple[str, ...],
    quiet: bool,
) -> None:
    """Build a static atlas site from SNAPSHOT (default: the embedded sample of ~29k real Hub models).

    Writes OUT/index.html, atlas.json, report.json, tiles/ and data/. Every input model ends up in the
    atlas or in report.json with the reason it was dropped.
    """
    from atlasgen.pipeline.build import build_atlas
    from atlasgen.publish.manifest import summary_lines

    report = build_atlas(
        snapshot,
        out,
        fmt=fmt,
        nodes=nodes,
        seed=seed,
        backend=backend,
        max_iter=max_iter,
        max_zoom=max_zoom,
        previous=previous,
        budget=budget,
        layers=tuple(name.strip() for name in layers.split(",") if name.strip()),
        retina=retina,
        workers=workers,
        dask_scheduler=dask_scheduler,
        resume=resume,
        progress=not quiet,
        focus=focus,
    )
    if not quiet:
        for line in summary_lines(report):
            click.echo(line)
        click.echo(f"atlas written to {out} — preview with: atlasgen serve {out}")


@cli.command()
@click.option(
    "--source",
    type=click.Choice(["hub-stats", "api"]),
    default="hub-stats",
    show_default=True,
    help="hub-stats: download the hub-stats models parquet; api: page HfApi.list_models to JSON Lines.",
)
@out_option("Snapshot file to write (atomically), with OUT.manifest.json beside it.", required=True)
@click.option("--limit", type=click.IntRange(1), help="api only: stop after this many models.")
@click.option("--repo-id", default="cfahlgren1/hub-stats", show_default=True, help="hub-stats dataset repo.")
@click.option("--filename", default="models.parquet", show_default=True, help="hub-stats file in that repo.")
@click.option("--revision", default="main", show_default=True, help="hub-stats dataset revision.")
@resume_option("api only: go on from where a failed or killed fetch into OUT stopped (OUT.partial).")
@click.option(
    "--retries",
    default=5,
    show_default=True,
    type=click.IntRange(0),
    help="Retries of a request that failed with 408/429/5xx, a dropped connection or a truncated body.",
)
@quiet_option("No progress bar.")
def fetch(
    source: str,
    out: Path,
    limit: int | None,
    repo_id: str,
    filename: str,
    revision: str,
    resume: bool,
    retries: int,
    quiet: bool,
) -> None:
    """Snapshot the Hub's model metadata with huggingface_hub.

    Reads HF_TOKEN (optional) and HF_ENDPOINT (a mirror or test server) from the environment.
    """
    from atlasgen.ingest.fetch import RetryPolicy, fetch_snapshot

    manifest = fetch_snapshot(
        source=source,
        out=out,
        limit=limit,
        repo_id=repo_id,
        filename=filename,
        revision=revision,
        progress=not quiet,
        resume=resume,
        retry=RetryPolicy(retries=retries),
    )
    click.echo(f"{manifest['rows']:,} models written to {out}")


@cli.command()
@click.option("--models", "-n", required=True, type=click.IntRange(1), help="Number of models to generate.")
@out_option("Parquet file to write (hub-stats schema).", required=True)
@seed_option("Seed: same seed and size, same file.")
@click.option(
    "--no-lineage",
    default=0.6,
    show_default=True,
    type=click.FloatRange(0, 1),
    help="Share of models without a documented parent (0.815 gives the Hub's ~0.2 edges per model).",
)
def synth(models: int, out: Path, seed: int, no_lineage: float) -> None:
    """Write a synthetic Hub snapshot calibrated to real Hub data (for benchmarks and scale tests).

    The lineage shape, relation mix, downloads and tasks follow the measurements in docs/synth.md.
    """
    from atlasgen.ingest.synth import write_synthetic_hub

    stats = write_synthetic_hub(models, out, seed=seed, no_lineage=no_lineage)
    click.echo(f"{models:,} synthetic models written to {out} ({stats.get('edges', 0):,} edges)")


@cli.command()
@click.argument("directory", type=click.Path(path_type=Path, file_okay=False))
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, help="Port (0 picks a free one).")
def serve(directory: Path, host: str, port: int) -> None:
    """Preview a built atlas in DIRECTORY at http://HOST:PORT/ (Ctrl-C stops)."""
    from atlasgen.tools.serve import make_server

    server = make_server(directory, host, port)
    click.echo(f"serving {directory} at http://{host}:{server.server_address[1]}/  (Ctrl-C to stop)")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


@cli.command()
@click.argument("old", type=click.Path(path_type=Path))
@click.argument("new", type=click.Path(path_type=Path))
@options(
    output_format_option(),
    out_option("Write the diff to this file instead of stdout.", dir_okay=True),
    snapshot_format_option(
        "--snapshot-format",
        help="Format of OLD and NEW where they are snapshot files; default: from the file names.",
    ),
    nodes_option("--old-nodes", help="Node CSV for OLD when it is an edge CSV."),
    nodes_option("--new-nodes", help="Node CSV for NEW when it is an edge CSV."),
)
@click.option(
    "--top",
    default=10,
    show_default=True,
    type=click.IntRange(0),
    help="How many added and removed models (most downloaded first), grown families and movers to list.",
)
@click.option("--all", "list_all", is_flag=True, help="List every one of them instead of the --top.")
def diff(
    old: Path,
    new: Path,
    fmt: str,
    out: Path | None,
    snapshot_format: str | None,
    old_nodes: Path | None,
    new_nodes: Path | None,
    top: int,
    list_all: bool,
) -> None:
    """Compare two snapshots or two atlases (directories with atlas.json), or one of each.

    Reports models added and removed, lineage edges added and removed by relation, the families that grew
    most and, for two atlases, how far the models in both moved.
    """
    from atlasgen.cli_checks import diff_problems
    from atlasgen.tools import diff as tool

    abort_if(diff_problems(old, new, snapshot_format, old_nodes, new_nodes, out))
    result = tool.run(
        old,
        new,
        fmt=snapshot_format,
        old_nodes=old_nodes,
        new_nodes=new_nodes,
        top=None if list_all else top,
    )
    emit(tool.render(result, fmt), out)


@cli.command()
@atlas_option("A built atlas directory (reads positions.parquet, lineage.parquet, atlas.json).")
@out_option(
    "Output file name; each format adds its suffix (fig -> fig.png, fig.svg, fig.pdf).", required=True
)
@click.option("--center", metavar="MODEL_ID", help="Centre the figure on this model.")
@click.option(
    "--radius", type=float, help="With --center: world units around it (default 8; the map is 256)."
)
@click.option("--bbox", metavar="X0,Y0,X1,Y1", help="Region in world coordinates (y down); default: all.")
@click.option("--width", type=int, help="Width in pixels.")
@click.option("--height", type=int, help="Height in pixels (legend included).")
@click.option("--size", help="Print size, e.g. 180mm, 7in, 180x120mm (default 180mm at 300 dpi).")
@click.option("--dpi", type=float, help="Dots per inch for --size (default 300); recorded in the PNG/PDF.")
@click.option(
    "--layer",
    type=click.Choice(["relation", "task", "licence"]),
    default="relation",
    show_default=True,
    help="What colour means, as on the map.",
)
@click.option("--edges", is_flag=True, help="Draw parent -> child links under the points.")
@click.option("--labels", default=10, show_default=True, help="Label this many most-downloaded models.")
@click.option(
    "--theme",
    type=click.Choice(["light", "dark"]),
    default="light",
    show_default=True,
    help="light (white, for print) or dark (the site's look).",
)
@click.option("--format", "formats", default="png,svg,pdf", show_default=True, help="Formats to write.")
def figure(
    atlas: Path,
    out: Path,
    center: str | None,
    radius: float | None,
    bbox: str | None,
    width: int | None,
    height: int | None,
    size: str | None,
    dpi: float | None,
    layer: str,
    edges: bool,
    labels: int,
    theme: str,
    formats: str,
) -> None:
    """Render a region of an atlas as a print-quality figure (PNG, SVG, PDF) with legend and attribution."""
    from atlasgen.cli_checks import figure_options
    from atlasgen.errors import InputError
    from atlasgen.tools.figure import make as tool
    from atlasgen.tools.figure.scene import UnknownModel

    opts = figure_options(
        atlas=atlas,
        out=out,
        center=center,
        radius=radius,
        bbox=bbox,
        width=width,
        height=height,
        size=size,
        dpi=dpi,
        layer=layer,
        edges=edges,
        labels=labels,
        theme=theme,
        formats=formats,
    )
    try:
        result = tool.run(opts)
    except UnknownModel as exc:  # only the command line knows the id came from --center
        raise InputError(exc.path, f"--center: {exc.detail}") from None
    emit(tool.render(result))


@cli.command()
@click.argument("model_id")
@click.option("--snapshot", type=click.Path(path_type=Path), help="Snapshot file (default: the sample).")
@atlas_option("A built atlas directory to read instead.", required=False, file_okay=True)
@snapshot_format_option("--snapshot-format", help="Format of --snapshot; default: from the file name.")
@nodes_option("--nodes", help="Node CSV for an edge CSV --snapshot.")
@output_format_option()
@click.option(
    "--children",
    default=5,
    show_default=True,
    type=click.IntRange(0),
    help="How many of the most-downloaded direct children to list.",
)
@click.option(
    "--fail-on",
    type=click.Choice(["licence-change", "licence-family-change"]),
    help="Exit with status 3 when the ancestry has a declared-licence change (any, or between families).",
)
def lineage(
    model_id: str,
    snapshot: Path | None,
    atlas: Path | None,
    snapshot_format: str | None,
    nodes: Path | None,
    fmt: str,
    children: int,
    fail_on: str | None,
) -> None:
    """Show MODEL_ID's ancestry up to its root(s) with relation and declared licence at every hop, the
    declared-licence changes along it, and its descendants (from a snapshot, an atlas or the sample)."""
    from atlasgen.cli_checks import lineage_problems
    from atlasgen.tools import lineage as tool

    abort_if(lineage_problems(snapshot, atlas, snapshot_format, nodes))
    result = tool.run(
        model_id, snapshot=snapshot, atlas=atlas, fmt=snapshot_format, nodes=nodes, children=children
    )
    emit(tool.render(result, fmt))
    if found := tool.failing(result, fail_on):
        click.echo(f"--fail-on {fail_on}: {found} declared-licence change(s) in the ancestry", err=True)
        click.get_current_context().exit(tool.EXIT_LICENCE_CHANGE)


@cli.command()
@atlas_option("A built atlas directory (reads positions.parquet and lineage.parquet).")
@click.option(
    "--leaderboard",
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    help="Open LLM Leaderboard CSV (v2, v1, or id,accuracy): the accuracy attribute, joined by model id.",
)
@click.option(
    "--attribute",
    "attributes",
    multiple=True,
    type=click.Choice(["task", "licence", "accuracy"]),
    help="Attribute to predict (repeatable); default: task and licence, and accuracy with --leaderboard.",
)
@click.option(
    "--evaluate", is_flag=True, help="Hide a share of the known values and score predictions vs the baseline."
)
@output_format_option("--evaluate output: text for people; json (sorted keys) for tools.")
@click.option(
    "--holdout",
    default=0.2,
    show_default=True,
    type=click.FloatRange(0, 1, min_open=True, max_open=True),
    help="--evaluate: share of the models with a known value to hide.",
)
@seed_option("--evaluate: seed of the held-out split.")
@out_option("Imputed values (.parquet, or .csv) for the models missing them; with --evaluate: the table.")
def predict(
    atlas: Path,
    leaderboard: Path | None,
    attributes: tuple[str, ...],
    evaluate: bool,
    fmt: str,
    holdout: float,
    seed: int,
    out: Path | None,
) -> None:
    """Predict task, declared licence and leaderboard accuracy from a model's atlas neighbours.

    Lineage neighbours (parents, children, siblings) vote first, the nearest models on the map otherwise.
    Imputed values are written with imputed=True and their evidence.
    """
    from atlasgen.cli_checks import predict_problems
    from atlasgen.tools import predict as tool

    abort_if(predict_problems(attributes, leaderboard, evaluate, out))
    result = tool.run(
        atlas=atlas,
        attributes=attributes,
        leaderboard=leaderboard,
        evaluate_only=evaluate,
        out=None if evaluate else out,
        opts=tool.PredictOptions(holdout=holdout, seed=seed),
    )
    # --format is the evaluation's; the summary of imputed values is text (the values are in --out)
    emit(tool.render(result, fmt if evaluate else "text"), out if evaluate else None)


def main() -> None:
    try:
        cli(prog_name="atlasgen")
    except OSError as exc:  # disk full, permission denied, ...: the user's to fix, so no traceback
        where = f"{exc.filename}: " if exc.filename else ""
        click.echo(f"Error: {where}{exc.strerror or exc}", err=True)
        raise SystemExit(1) from None
