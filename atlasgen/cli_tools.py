"""The commands over a built atlas or a snapshot: diff, figure, lineage, predict (registered by cli.py).

Each has one shape: check the options (cli_checks.py, where the flags are named; every problem at once),
call the tool's ``run(...)`` for a result, ``render(result, fmt)`` it and write the text to stdout or
``--out`` (`emit`). The tools themselves (atlasgen/tools) print nothing and know no flags.
"""

from __future__ import annotations

from pathlib import Path

import click

from atlasgen.cli_checks import abort_if
from atlasgen.cli_options import (
    atlas_option,
    attribute_option,
    fail_on_option,
    figure_layer_option,
    nodes_option,
    options,
    out_option,
    output_format_option,
    seed_option,
    snapshot_format_option,
    theme_option,
)


def emit(text: str, out: Path | None = None) -> None:
    """A command's report: to `out` when given, else to stdout."""
    if out is None:
        click.echo(text, nl=False)
    else:
        out.write_text(text, encoding="utf-8")


@click.command()
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


@click.command()
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
@figure_layer_option("What colour means, as on the map.")
@click.option("--edges", is_flag=True, help="Draw parent -> child links under the points.")
@click.option("--labels", default=10, show_default=True, help="Label this many most-downloaded models.")
@theme_option("light (white, for print) or dark (the site's look).")
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


@click.command()
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
@fail_on_option(
    "Exit with status 3 when the ancestry has a declared-licence change (any, or between families)."
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


@click.command()
@atlas_option("A built atlas directory (reads positions.parquet and lineage.parquet).")
@click.option(
    "--leaderboard",
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    help="Open LLM Leaderboard CSV (v2, v1, or id,accuracy): the accuracy attribute, joined by model id.",
)
@attribute_option(
    "Attribute to predict (repeatable); default: task and licence, and accuracy with --leaderboard."
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


TOOLS = (diff, figure, lineage, predict)
