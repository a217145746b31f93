"""The command line's shared options: each flag that several commands take is defined once here.

Choices, defaults and help texts that have a home elsewhere come from it: the snapshot formats from the
ingest registry (`ingest.snapshot.FORMATS`), the tile layers from the layer table (`tiles.table`), the
figure themes from `tools.figure.style.THEMES`, prediction's attributes and lineage's --fail-on kinds from their tools. Those
import pandas, so they are looked up only when click
first needs them (that command's ``--help``, or parsing its arguments): `atlasgen --help` and
`atlasgen serve` stay light.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])

TEXT_OR_JSON = "text for people; json (sorted keys) for tools."


class Deferred(click.Option):
    """An option whose choices, default or help come from `lookup()`, called once, when click first needs
    them: the keys it returns (``choices``, ``default``, ``help``) replace what was given to click."""

    def __init__(self, *args: Any, lookup: Callable[[], dict[str, Any]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._lookup: Callable[[], dict[str, Any]] | None = lookup

    def _fill(self) -> None:
        if self._lookup is None:
            return
        found, self._lookup = self._lookup(), None
        if "choices" in found:
            self.type = click.Choice(found["choices"])
        self.default = found.get("default", self.default)
        self.help = found.get("help", self.help)

    def get_help_record(self, ctx: click.Context) -> tuple[str, str] | None:
        self._fill()
        return super().get_help_record(ctx)

    def handle_parse_result(self, ctx: click.Context, opts: Any, args: list[str]) -> Any:
        self._fill()
        return super().handle_parse_result(ctx, opts, args)

    def to_info_dict(self) -> dict[str, Any]:
        self._fill()
        return super().to_info_dict()

    def shell_complete(self, ctx: click.Context, incomplete: str) -> list[Any]:
        self._fill()
        return super().shell_complete(ctx, incomplete)


def options(*decorators: Callable[[Any], Any]) -> Callable[[F], F]:
    """Several option decorators as one; ``--help`` lists them in the order given."""

    def apply(func: F) -> F:
        for decorator in reversed(decorators):
            func = decorator(func)
        return func

    return apply


def choice_option(*decls: str, choices: Callable[[], Iterable[str]], **kwargs: Any) -> Callable[[F], F]:
    """An option whose choices `choices()` gives when click first needs them (until then, none)."""
    none: click.Choice[str] = click.Choice([])
    return click.option(
        *decls, cls=Deferred, lookup=lambda: {"choices": tuple(choices())}, type=none, **kwargs
    )


def _snapshot_formats() -> Iterable[str]:
    from atlasgen.ingest.snapshot import FORMATS

    return FORMATS


def snapshot_format_option(*decls: str, help: str) -> Callable[[F], F]:
    """The snapshot format of a snapshot file (choices: the registered formats)."""
    return choice_option(*decls, choices=_snapshot_formats, help=help)


def nodes_option(*decls: str, help: str, dir_okay: bool = True) -> Callable[[F], F]:
    """A node CSV going with an edge CSV snapshot."""
    return click.option(*decls, type=click.Path(path_type=Path, dir_okay=dir_okay), help=help)


def output_format_option(help: str = TEXT_OR_JSON) -> Callable[[F], F]:
    """``--format text|json``: how a command's report is written."""
    return click.option(
        "--format",
        "fmt",
        type=click.Choice(["text", "json"]),
        default="text",
        show_default=True,
        help=help,
    )


def out_option(
    help: str, *, required: bool = False, file_okay: bool = True, dir_okay: bool = False
) -> Callable[[F], F]:
    """``--out/-o``: where a command writes."""
    kind = click.Path(path_type=Path, file_okay=file_okay, dir_okay=dir_okay)
    return click.option("--out", "-o", required=required, type=kind, help=help)


def atlas_option(help: str, *, required: bool = True, file_okay: bool = False) -> Callable[[F], F]:
    """``--atlas``: a built atlas directory."""
    kind = click.Path(path_type=Path, file_okay=file_okay)
    return click.option("--atlas", required=required, type=kind, help=help)


def seed_option(help: str) -> Callable[[F], F]:
    return click.option("--seed", default=0, show_default=True, help=help)


def quiet_option(help: str) -> Callable[[F], F]:
    return click.option("--quiet", "-q", is_flag=True, help=help)


def resume_option(help: str) -> Callable[[F], F]:
    return click.option("--resume", is_flag=True, help=help)


def _layers() -> dict[str, Any]:
    from atlasgen.tiles.table import DEFAULT_LAYERS, layer_help

    return {"default": ",".join(DEFAULT_LAYERS), "help": layer_help()}


def layers_option() -> Callable[[F], F]:
    """``build --layers``: the tile layers to render (help and default: the layer table's)."""
    return click.option("--layers", cls=Deferred, lookup=_layers, show_default=True)


def _figure_layers() -> Iterable[str]:
    from atlasgen.tiles.table import figure_layers

    return [layer.id for layer in figure_layers()]


def figure_layer_option(help: str) -> Callable[[F], F]:
    """``figure --layer``: the layers that colour every model (the layer table's)."""
    return choice_option("--layer", choices=_figure_layers, default="relation", show_default=True, help=help)


def _themes() -> Iterable[str]:
    from atlasgen.tools.figure.style import THEMES

    return THEMES


def theme_option(help: str) -> Callable[[F], F]:
    """``figure --theme``: the figure themes."""
    return choice_option("--theme", choices=_themes, default="light", show_default=True, help=help)


def _predict_attributes() -> Iterable[str]:
    from atlasgen.tools.predict import ATTRIBUTES

    return ATTRIBUTES


def attribute_option(help: str) -> Callable[[F], F]:
    """``predict --attribute`` (repeatable): the attributes prediction knows."""
    return choice_option("--attribute", "attributes", choices=_predict_attributes, multiple=True, help=help)


def _fail_on() -> Iterable[str]:
    from atlasgen.tools.lineage import FAIL_ON

    return FAIL_ON


def fail_on_option(help: str) -> Callable[[F], F]:
    """``lineage --fail-on``: the kinds of declared-licence change a run can fail on."""
    return choice_option("--fail-on", choices=_fail_on, help=help)
