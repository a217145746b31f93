"""The ingest stage's front door: a registry of snapshot formats, and `read_snapshot`, which reads any of them.

Built-in formats, in order (FORMATS; the README documents them): `hub-stats` (the Hub's models table,
hubstats.py), `jsonl` (JSON Lines of ModelInfo dicts, jsonl.py) and `csv` (an edge CSV plus an optional node
CSV, edgecsv.py). Every reader returns a `Snapshot` (frames.py): the `models` and `links` frames, each value
only made safe to carry and what changed counted in `notes`; a malformed file is an InputError naming the
file and the row. Lineage is repaired later, in graph.dag.

How to add a snapshot format
----------------------------
1. Write its reader, `read_x(path: Path, nodes: Path | None = None) -> Snapshot`, in a module of its own
   (ingest/x.py). Return frames with frames.MODEL_COLUMNS and frames.LINK_COLUMNS (`frames.bare_models` makes
   models of ids known only from links); pass text through parse.Scrub, numbers and dates through
   parse.numbers and parse.dates, so that what was changed is counted; raise InputError(path, message, row)
   for a file that cannot be read. Leave `source` and `links_by_model_row` to `read_snapshot`: it sets the
   path, format name and label from the registry entry; put in `source` only keys of the format's own.
2. Register it at the end of this module with one `register(SnapshotFormat(...))`: its name; the file-name
   endings that mean it (lower case; the first registered format with a matching ending wins); whether its
   links come one per model row (a dropped model row then takes its links with it) or as an edge list;
   whether it takes a node file (`nodes` is None for a format that does not); a one-line description.
That is all: detection, `read_snapshot`, the graph stage (which reads `Snapshot.links_by_model_row`, never a
format's name) and the command line's choices (FORMATS) follow the registry. Then add a test beside the
others in tests/test_snapshot.py and a row to the README's table of inputs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from atlasgen.errors import AtlasgenError, InputError
from atlasgen.ingest.edgecsv import read_edge_csv
from atlasgen.ingest.frames import LINK_COLUMNS, MODEL_COLUMNS, Snapshot
from atlasgen.ingest.hubstats import read_hub_stats
from atlasgen.ingest.jsonl import read_jsonl

__all__ = [
    "FORMATS",
    "LINK_COLUMNS",
    "MODEL_COLUMNS",
    "SAMPLE",
    "SAMPLE_LABEL",
    "Snapshot",
    "SnapshotFormat",
    "detect_format",
    "get_format",
    "read_snapshot",
    "register",
    "snapshot_formats",
    "unregister",
]

SAMPLE = Path(__file__).resolve().parent.parent / "sample" / "hub-sample.parquet"
SAMPLE_LABEL = "embedded sample: hf-snapshot 2025-06 lineage + hub-stats 2026-05 attributes"

Reader = Callable[[Path, Path | None], Snapshot]


@dataclass(frozen=True)
class SnapshotFormat:
    """One registered snapshot format (see "How to add a snapshot format" above)."""

    name: str
    suffixes: tuple[str, ...]  # lower-case file-name endings that mean this format
    read: Reader  # read(path, nodes) -> Snapshot; nodes is None unless takes_nodes
    links_by_model_row: bool  # True: each link comes from its child's model row; False: an edge list
    takes_nodes: bool  # whether a separate node file may go with the snapshot
    description: str  # one line, for help texts

    def describe(self) -> str:
        """`name (.suffix, ...): description`, for help texts."""
        return f"{self.name} ({', '.join(self.suffixes)}): {self.description}"


_REGISTRY: dict[str, SnapshotFormat] = {}


def register(fmt: SnapshotFormat) -> SnapshotFormat:
    """Add a format after those already registered (detection tries them in this order)."""
    if fmt.name in _REGISTRY:
        raise ValueError(f"snapshot format {fmt.name!r} is already registered")
    _REGISTRY[fmt.name] = fmt
    return fmt


def unregister(name: str) -> None:
    """Remove a registered format (tests register formats of their own and take them out again)."""
    del _REGISTRY[name]


def snapshot_formats() -> tuple[SnapshotFormat, ...]:
    """Every registered format, in registration order."""
    return tuple(_REGISTRY.values())


def get_format(name: str) -> SnapshotFormat:
    try:
        return _REGISTRY[name]
    except KeyError:
        raise AtlasgenError(f"format {name!r} is not one of {', '.join(_REGISTRY)}") from None


def detect_format(path: Path) -> str:
    """The name of the first registered format whose file-name ending `path` has."""
    name = path.name.lower()
    for fmt in _REGISTRY.values():
        if name.endswith(fmt.suffixes):
            return fmt.name
    known = "; ".join(f"{f.name}: {', '.join(f.suffixes)}" for f in _REGISTRY.values())
    raise InputError(path, f"cannot tell the snapshot format from the file name ({known})")


def read_snapshot(path: Path | None, *, fmt: str | None = None, nodes: Path | None = None) -> Snapshot:
    """Read a snapshot of format `fmt` (default: from the file name); `path=None` reads the embedded sample.

    `nodes` is a node file, for a format that takes one."""
    if path is None:
        sample = get_format(detect_format(SAMPLE))
        if nodes is not None:  # a node file with no snapshot was once read as nothing, without a word
            raise InputError(
                nodes, f"a node file goes with a snapshot file (the embedded sample is {sample.name})"
            )
        if fmt is not None and fmt != sample.name:
            raise AtlasgenError(
                f"format {fmt!r} given without a snapshot file (the embedded sample is {sample.name})"
            )
        snap = _read(sample, SAMPLE, None)
        snap.source.update(label=SAMPLE_LABEL, path="embedded:hub-sample.parquet", date="2025-06-11")
        return snap
    if not path.is_file():
        raise InputError(path, "no such file")
    spec = get_format(fmt or detect_format(path))
    if nodes is not None and not spec.takes_nodes:
        takers = " or ".join(f.name for f in _REGISTRY.values() if f.takes_nodes)
        raise InputError(nodes, f"a node file goes only with a {takers} snapshot, not with {spec.name}")
    return _read(spec, path, nodes)


def _read(spec: SnapshotFormat, path: Path, nodes: Path | None) -> Snapshot:
    """Read with `spec`'s reader and stamp what the registry knows on the result."""
    snap = spec.read(path, nodes)
    snap.source = {"path": str(path), "format": spec.name, "label": path.name} | snap.source
    snap.links_by_model_row = spec.links_by_model_row
    return snap


# ------------------------------------------------------------------------------------------ the formats

register(
    SnapshotFormat(
        "hub-stats",
        (".parquet",),
        read_hub_stats,
        links_by_model_row=True,
        takes_nodes=False,
        description="the Hub's hub-stats models table (parquet)",
    )
)
register(
    SnapshotFormat(
        "jsonl",
        (".jsonl", ".ndjson", ".json", ".jsonl.gz"),
        read_jsonl,
        links_by_model_row=True,
        takes_nodes=False,
        description="JSON Lines of huggingface_hub ModelInfo dicts, as `atlasgen fetch --source api` writes",
    )
)
register(
    SnapshotFormat(
        "csv",
        (".csv",),
        read_edge_csv,
        links_by_model_row=False,
        takes_nodes=True,
        description="an edge CSV source,target[,relation], with an optional node CSV id,... for its models",
    )
)

FORMATS: tuple[str, ...] = tuple(_REGISTRY)  # the built-in formats' names, in order: the CLI's choices
