"""The `atlasgen` command line: thin click commands; the work happens in lazily imported stage modules.

Here: the group and the commands that make and show an atlas (build, fetch, synth, serve). The commands that
read a built atlas or a snapshot (diff, figure, lineage, predict) are in cli_tools.py; options that several
commands share are defined once in cli_options.py.
"""

from __future__ import annotations

import logging
from pathlib import Path

import click

from atlasgen import __version__
from atlasgen.cli_options import (
    layers_option,
    nodes_option,
    options,
    out_option,
    quiet_option,
    resume_option,
    seed_option,
    snapshot_format_option,
)
from atlasgen.cli_tools import TOOLS

BACKENDS = click.Choice(["auto", "cpu", "gpu"])


@click.group(name="atlasgen", context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="atlasgen")
@click.option("-v", "--verbose", is_flag=True, help="Log each stage and the layout backend choice.")
def cli(verbose: bool) -> None:
    """Chart the Hugging Face Hub as a Model Atlas: models as points, lineage as edges, a static tiled map."""
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, format="%(message)s")


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
@click.option(
    "--max-iter",
    default=300,
    show_default=True,
    help="ForceAtlas2 iterations for each family (a connected lineage, laid out on its own); with "
    "--previous, fewer for a family that changed little and none for an unchanged one.",
)
@click.option(
    "--max-zoom",
    type=click.IntRange(0, 12),
    help="Deepest tile zoom; default: from the layout's scale (a packing unit ~16 px), as deep for a map grown with --previous as for a fresh one.",
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
    help="Largest the whole site may be (e.g. 600MB, 1GB), every file counted: the deepest zooms and the "
    "layers that don't fit are dropped, and the summary says which; too small for a map that loads, the "
    "build stops and names the smallest budget that works.",
)
@layers_option()
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
    from atlasgen.errors import OptionError
    from atlasgen.pipeline.build import build_atlas
    from atlasgen.publish.manifest import summary_lines

    try:
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
    except OptionError as exc:  # the library names options; here they are flags
        ctx = click.get_current_context()
        raise exc.flagged({p.name: max(p.opts, key=len) for p in ctx.command.params if p.name}) from None
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
@click.option(
    "--weeks",
    type=click.IntRange(1),
    help="Also write the Hub of each of this many later weeks (OUT with -weekN before .parquet): growth, "
    "deletions and links that join families at the rates of real weeks (docs/synth.md).",
)
@click.option("--growth", default=0.015, show_default=True, type=click.FloatRange(0, 1, min_open=True))
@quiet_option("Print nothing.")
def synth(
    models: int, out: Path, seed: int, no_lineage: float, weeks: int | None, growth: float, quiet: bool
) -> None:
    """Write a synthetic Hub snapshot calibrated to real Hub data (for benchmarks and scale tests).

    The lineage shape, relation mix, downloads and tasks follow the measurements in docs/synth.md.
    """
    from atlasgen.ingest.synth import write_synthetic_hub

    if weeks is not None:
        from atlasgen.ingest.synth_weeks import write_weeks

        for path in write_weeks(models, weeks, out, growth=growth, seed=seed, no_lineage=no_lineage):
            if not quiet:
                click.echo(f"written {path}")
        return
    stats = write_synthetic_hub(models, out, seed=seed, no_lineage=no_lineage)
    if not quiet:
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


for command in TOOLS:
    cli.add_command(command)


def main() -> None:
    try:
        cli(prog_name="atlasgen")
    except OSError as exc:  # disk full, permission denied, ...: the user's to fix, so no traceback
        where = f"{exc.filename}: " if exc.filename else ""
        click.echo(f"Error: {where}{exc.strerror or exc}", err=True)
        raise SystemExit(1) from None
