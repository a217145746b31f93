"""The tile layers, one entry each: everything a layer is, in the one table every other part reads.

An entry says which column of the points (or edges) frame the layer encodes and how (``Categories``: the
values are the palette's categories; ``Families``: values fall into families by a rule; ``Ranked``: the most
frequent values get colours, so the legend follows the data; ``Mask``: a boolean column, the layer draws only
its true rows), what kind of marks it draws (``points``: the stamped discs; ``edges``: parent -> child
lines), whether it is an overlay (some marks only, over a base layer), its first zoom, its budget priority,
whether a build renders it by default and a line of help. The legend (its title, categories, colours and
labels) is the entry's palette ``Encoding`` (palette.py).

Readers: ``layers.prepare_layers`` (dispatches on the entry's kind and encoding), the budget order
(``PRIORITY``), ``build``'s default layers and the valid names, the CLI's ``--layers`` help
(``layer_help``), the points frame the tiles stage needs (``points_frame``), and figures
(``figure_layers``: the layers that colour every model, with their legend rules).

Adding a layer is one entry plus its colours. For example, a layer colouring models by library:

1. palette.py: ``LIBRARY = Encoding("Library", ("transformers", "diffusers", "other"),
   {"transformers": "#5ba3f5", "diffusers": "#ffa94d", "other": OTHER_COLOR}, {...labels...})``;
2. here, in ``TABLE``: ``LayerDef("library", "points", "library_name", Families(LIBRARY, classify),
   "library (colour: the model's library)", priority=5)`` where ``classify`` maps values to codes into
   ``LIBRARY.categories`` (``Categories(LIBRARY)`` when the values are the categories themselves).

That is all: ``build --layers relation,library`` validates, ``points_frame`` carries ``library_name``,
``render_layers`` renders ``tiles/library/`` and atlas.json lists it with its legend
(tests/test_layer_table.py renders such a test-only layer end to end).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal, Protocol

import numpy as np
import numpy.typing as npt
import pandas as pd

from atlasgen.tiles.palette import (
    EDGES,
    LICENCE,
    NEW,
    RELATION,
    TASK_TITLE,
    Encoding,
    licence_codes,
    task_codes,
    task_encoding,
)

Codes = npt.NDArray[np.int8]  # a category code per row; -1 = the row has no category (not drawn)
Kind = Literal["points", "edges"]


class Encoder(Protocol):
    """How a layer turns one column into colour categories."""

    partial: ClassVar[bool]  # rows without a category are simply not drawn (else they are a bug upstream)

    @property
    def title(self) -> str: ...

    def encode(self, values: pd.Series) -> tuple[Encoding, Codes]:
        """The layer's legend for these values and each value's code in it."""
        ...

    def codes(self, values: pd.Series, categories: Sequence[str]) -> Codes:
        """Each value's code in a given legend (a built map's), -1 where it has none."""
        ...


@dataclass(frozen=True)
class Categories:
    """The values are the palette's categories themselves (relations)."""

    palette: Encoding
    partial: ClassVar[bool] = False

    @property
    def title(self) -> str:
        return self.palette.title

    def encode(self, values: pd.Series) -> tuple[Encoding, Codes]:
        return self.palette, self.codes(values, self.palette.categories)

    def codes(self, values: pd.Series, categories: Sequence[str]) -> Codes:
        return pd.Index(categories).get_indexer(pd.Index(values.astype(str))).astype(np.int8)


@dataclass(frozen=True)
class Families:
    """Values fall into the palette's categories by a rule: ``classify`` returns codes into them."""

    palette: Encoding
    classify: Callable[[pd.Series], Codes]
    partial: ClassVar[bool] = False

    @property
    def title(self) -> str:
        return self.palette.title

    def encode(self, values: pd.Series) -> tuple[Encoding, Codes]:
        return self.palette, self.classify(values)

    def codes(self, values: pd.Series, categories: Sequence[str]) -> Codes:
        remap = pd.Index(categories).get_indexer(pd.Index(self.palette.categories)).astype(np.int8)
        return remap[self.classify(values)]


@dataclass(frozen=True)
class Ranked:
    """The most frequent values get colours (tasks), so the legend depends on the data: ``rank`` builds it,
    ``classify`` codes values into any legend of that shape."""

    title: str
    rank: Callable[[pd.Series], tuple[Encoding, Codes]]
    classify: Callable[[pd.Series, tuple[str, ...]], Codes]
    partial: ClassVar[bool] = False

    def encode(self, values: pd.Series) -> tuple[Encoding, Codes]:
        return self.rank(values)

    def codes(self, values: pd.Series, categories: Sequence[str]) -> Codes:
        return self.classify(values, tuple(categories))


@dataclass(frozen=True)
class Mask:
    """A boolean column: only its true rows are drawn, in the palette's one category."""

    palette: Encoding
    partial: ClassVar[bool] = True

    @property
    def title(self) -> str:
        return self.palette.title

    def encode(self, values: pd.Series) -> tuple[Encoding, Codes]:
        return self.palette, self.codes(values, self.palette.categories)

    def codes(self, values: pd.Series, categories: Sequence[str]) -> Codes:
        return np.where(values.to_numpy(bool), 0, -1).astype(np.int8)


@dataclass(frozen=True)
class LayerDef:
    """One tile layer. ``id`` names it everywhere: ``--layers``, ``tiles/<id>/``, atlas.json's layer id."""

    id: str
    kind: Kind
    column: str  # of the points frame (kind "points") or the edges frame (kind "edges")
    encoding: Encoder
    help: str  # one line for ``--layers``: "<id> (what it shows)"
    priority: int  # the budget keeps layers in ascending priority; the first one fixes the depth
    default: bool = False  # rendered when no layers are named
    required: bool = False  # a build must render it (the viewer's base map)
    overlay: bool = False  # some models or lines only, on a transparent background over a base layer
    min_zoom: int = 0  # first zoom (edges layers also wait until their median edge is legible)
    dated_title: str | None = None  # the title when the previous atlas' date is known: "... {date}"

    @property
    def title(self) -> str:
        return self.encoding.title

    def title_since(self, since_date: str | None) -> str:
        """The layer's title; dated layers (the new-models overlay) name the previous atlas' date."""
        if self.dated_title and since_date:
            return self.dated_title.format(date=since_date)
        return self.title

    def legend(self, values: pd.Series) -> list[dict[str, str]]:
        """The legend this layer would have for these values (its atlas.json ``legend``)."""
        return self.encoding.encode(values)[0].legend()

    def codes(self, values: pd.Series, categories: Sequence[str]) -> Codes:
        """Each value's code in a built map's legend ``categories``, -1 where it has none."""
        return self.encoding.codes(values, categories)


@dataclass(frozen=True)
class LayerTable:
    """The layers in listing order (help, valid names); ``priority`` orders the budget."""

    entries: tuple[LayerDef, ...]
    _by_id: dict[str, LayerDef] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        by_id = {entry.id: entry for entry in self.entries}
        if len(by_id) != len(self.entries):
            raise ValueError(f"layer ids must be unique: {[e.id for e in self.entries]}")
        object.__setattr__(self, "_by_id", by_id)

    def __getitem__(self, name: str) -> LayerDef:
        return self._by_id[name]

    def __iter__(self) -> Iterator[LayerDef]:
        return iter(self.entries)

    def __contains__(self, name: object) -> bool:
        return name in self._by_id

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self._by_id)

    @property
    def defaults(self) -> tuple[str, ...]:
        return tuple(e.id for e in self.entries if e.default)

    @property
    def required(self) -> tuple[str, ...]:
        return tuple(e.id for e in self.entries if e.required)

    @property
    def priority(self) -> tuple[str, ...]:
        return tuple(e.id for e in sorted(self.entries, key=lambda e: e.priority))

    def with_layer(self, entry: LayerDef) -> LayerTable:
        """This table and one more layer (a plug-in's or a test's)."""
        return LayerTable((*self.entries, entry))

    def help(self) -> str:
        """The ``--layers`` help: every layer with what it shows, and the budget's order."""
        return (
            f"Tile layers to render, comma-separated ({' and '.join(self.required)} required): "
            + ", ".join(e.help for e in self.entries)
            + ". Under --budget the layers are kept in this priority: "
            + ", ".join(self.priority)
            + "."
        )

    def figure_layers(self) -> tuple[LayerDef, ...]:
        """The layers a figure can colour every model by: points layers that are not overlays."""
        return tuple(e for e in self.entries if e.kind == "points" and not e.overlay)

    def point_columns(self) -> tuple[str, ...]:
        """The points frame's columns: positions, downloads (marker size and weight) and each points layer's."""
        layer_columns = [e.column for e in self.entries if e.kind == "points"]
        return tuple(dict.fromkeys(["x", "y", "downloads", *layer_columns]))


TABLE = LayerTable(
    (
        LayerDef(
            "relation",
            "points",
            "relation",
            Categories(RELATION),
            "relation (colour: relation to the parent, as in the Model Atlas paper)",
            priority=0,
            default=True,
            required=True,
        ),
        LayerDef(
            "edges",
            "edges",
            "relation",
            Categories(EDGES),
            "edges (parent → child links, coloured by the child's relation)",
            priority=2,
            default=True,
            overlay=True,
        ),
        LayerDef(
            "task",
            "points",
            "pipeline_tag",
            Ranked(TASK_TITLE, task_encoding, task_codes),
            "task (colour: the ten most common tasks)",
            priority=3,
            default=True,
        ),
        LayerDef(
            "licence",
            "points",
            "licence",
            Families(LICENCE, licence_codes),
            "licence (colour: licence family)",
            priority=4,
            default=True,
        ),
        LayerDef(
            "new",
            "points",
            "new",
            Mask(NEW),
            "new (models added since --previous; added by default with it)",
            priority=1,
            overlay=True,
            dated_title="New since {date}",
        ),
    )
)
LAYERS = TABLE.names
DEFAULT_LAYERS = TABLE.defaults
PRIORITY = TABLE.priority


def layer_help(table: LayerTable = TABLE) -> str:
    """The CLI's ``--layers`` help text."""
    return table.help()


def figure_layers(table: LayerTable = TABLE) -> tuple[LayerDef, ...]:
    """The layers ``atlasgen figure --layer`` can draw (see ``LayerTable.figure_layers``)."""
    return table.figure_layers()


def points_frame(
    nodes: pd.DataFrame,
    xy: npt.NDArray[np.float64],
    masks: Mapping[str, Any] | None = None,
    *,
    table: LayerTable = TABLE,
) -> pd.DataFrame:
    """The points frame ``render_layers`` reads: each node's position and the columns the layers encode.

    ``masks`` gives ``Mask`` layers their boolean column by name (``{"new": models not in the previous
    atlas}``); a mask neither given nor in ``nodes`` is all false (nothing to mark).
    """
    masks = dict(masks or {})
    for entry in table:
        if isinstance(entry.encoding, Mask) and entry.column not in masks and entry.column not in nodes:
            masks[entry.column] = np.zeros(len(nodes), bool)
    wanted = [c for c in table.point_columns() if c not in ("x", "y") and c not in masks]
    missing = sorted(set(wanted) - set(nodes.columns))
    if missing:
        raise ValueError(f"nodes lack columns {missing}")
    return nodes[wanted].assign(x=xy[:, 0], y=xy[:, 1], **masks)
