"""Properties of the snapshot readers and the graph repairs, on inputs hypothesis makes up.

Readers: any bytes read as a snapshot give a Snapshot or an InputError, nothing else; valid files of any
Unicode keep every row, and every id that was already clean comes back unchanged (the others come back
without control characters or broken Unicode, or as missing). Repairs: the result is a DAG without
self-loops or duplicate links, every input row is a model or a dropped row, the virtual nodes are exactly
the parents absent from the snapshot, and the same input always gives the same frames.
"""

from __future__ import annotations

import csv
import io
import json
import tempfile
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from atlasgen.errors import InputError
from atlasgen.graph.dag import build_graph
from atlasgen.ingest.snapshot import LINK_COLUMNS, MODEL_COLUMNS, Snapshot, read_snapshot
from atlasgen.relations import EDGE_RELATIONS

settings.register_profile(
    "atlasgen",
    max_examples=60,
    deadline=None,
    database=None,  # no .hypothesis/ folder in the checkout
    suppress_health_check=[HealthCheck.too_slow],
)
PROFILE = settings.get_profile("atlasgen")

# ------------------------------------------------------------------------------------------------ readers

HUB_ID = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,12}/[A-Za-z0-9_.-]{1,16}", fullmatch=True)
ANY_TEXT = st.text(max_size=24)  # any code point but surrogates
WITH_SURROGATES = st.text(st.characters(codec=None, exclude_categories=[]), max_size=12)
TRICKY = st.sampled_from(
    [" padded/id ", "a\x00b/c", "\u202ertl/x", "\ufeffbom/x", "\u200b", "  ", "", "../..", "<b>x</b>", "é/ü"]
)
IDS = st.one_of(HUB_ID, ANY_TEXT, TRICKY)


def clean(value: str) -> bool:
    """An id that needs no repair: printable, no surrounding space, not empty."""
    return bool(value) and value.isprintable() and value == value.strip()


def safe(value: Any) -> bool:
    """What every id the readers return must be: stripped text without control characters or surrogates."""
    if value is None:
        return True
    cats = {unicodedata.category(ch) for ch in value}
    return isinstance(value, str) and value == value.strip() and value != "" and not cats & {"Cc", "Cs"}


def has_lone_surrogate(text: str) -> bool:
    return any("\ud800" <= ch <= "\udfff" for ch in text)


@contextmanager
def scratch() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="atlasgen-prop-") as folder:
        yield Path(folder)


def read_or_input_error(path: Path, **kwargs: Any) -> Snapshot | InputError:
    try:
        return read_snapshot(path, **kwargs)
    except InputError as exc:
        assert str(path) in exc.message or str(kwargs.get("nodes")) in exc.message
        return exc


def check_ids(snap: Snapshot, raw_ids: list[Any]) -> None:
    """One model per input row, in order; clean ids unchanged; every id and parent safe."""
    assert list(snap.models["row"]) == list(range(1, len(raw_ids) + 1))
    for raw, got in zip(raw_ids, snap.models["id"], strict=True):
        assert safe(got), (raw, got)
        if isinstance(raw, str) and clean(raw):
            assert got == raw
        if not isinstance(raw, str):
            assert got is None
    assert all(safe(p) for p in snap.links["parent"])
    assert set(snap.links["child"].dropna()) <= set(snap.models["id"].dropna())


@PROFILE
@given(data=st.binary(max_size=400), fmt=st.sampled_from(["m.jsonl", "m.csv", "m.parquet", "m.jsonl.gz"]))
def test_any_bytes_read_to_a_snapshot_or_an_input_error(data: bytes, fmt: str) -> None:
    with scratch() as folder:
        path = folder / fmt
        path.write_bytes(data)
        read_or_input_error(path)


@PROFILE
@given(
    lines=st.lists(st.text(st.sampled_from('{}[]":,\\ \n\t0aé\x00\ufeff'), max_size=30), max_size=6),
    cut=st.integers(min_value=0, max_value=200),
)
def test_jsonl_fragments_never_crash(lines: list[str], cut: int) -> None:
    with scratch() as folder:
        path = folder / "s.jsonl"
        body = ('{"id": "a/b"}\n' + "\n".join(lines)).encode("utf-8")
        path.write_bytes(body[: len(body) - cut % (len(body) + 1)])
        result = read_or_input_error(path)
        if isinstance(result, InputError) and result.row is not None:
            assert 1 <= result.row <= len(body.splitlines()) + 1


RECORD = st.fixed_dictionaries(
    {"id": st.one_of(IDS, WITH_SURROGATES, st.none(), st.integers())},
    optional={
        "downloads": st.one_of(st.integers(), st.floats(), st.text(max_size=5), st.booleans(), st.none()),
        "likes": st.one_of(st.integers(min_value=0, max_value=10**6), st.none()),
        "createdAt": st.one_of(st.just("2024-01-02T03:04:05.000Z"), st.text(max_size=12), st.integers()),
        "tags": st.lists(st.one_of(st.just("license:mit"), st.text(max_size=10)), max_size=3),
        "baseModels": st.fixed_dictionaries(
            {
                "relation": st.sampled_from(["finetune", "merge", "quantized", "odd", None]),
                "models": st.lists(st.fixed_dictionaries({"id": st.one_of(IDS, st.none())}), max_size=3),
            }
        ),
        "pipeline_tag": st.one_of(st.text(max_size=8), st.integers()),
    },
)


# (i, j): row j takes row i's id, keeping its own attributes and parents
REPEATS = st.lists(st.tuples(st.integers(0, 99), st.integers(0, 99)), max_size=4)


def repeat_ids(items: list[Any], repeats: list[tuple[int, int]], get: Any, put: Any) -> None:
    for i, j in repeats:
        put(items, j % len(items), get(items, i % len(items)))


@PROFILE
@given(
    records=st.lists(RECORD, min_size=1, max_size=12),
    repeats=REPEATS,
    ascii_only=st.booleans(),
    bom=st.booleans(),
)
def test_jsonl_rows_survive_with_their_ids(
    records: list[dict[str, Any]], repeats: list[tuple[int, int]], ascii_only: bool, bom: bool
) -> None:
    repeat_ids(records, repeats, lambda rs, i: rs[i]["id"], lambda rs, j, v: rs[j].update(id=v))
    with scratch() as folder:
        path = folder / "s.jsonl"
        lines = [json.dumps(r, ensure_ascii=ascii_only) for r in records]
        text = ("\ufeff" if bom else "") + "\n".join(lines) + "\n"
        path.write_bytes(text.encode("utf-8", errors="surrogatepass" if not ascii_only else "strict"))
        result = read_or_input_error(path)
        if not ascii_only and any(has_lone_surrogate(line) for line in lines):
            # UTF-8 cannot hold a lone surrogate: the bytes are not UTF-8, so the row is named
            assert isinstance(result, InputError) and result.row is not None
            return
        assert isinstance(result, Snapshot), result
        check_ids(result, [r["id"] for r in records])
        assert all(isinstance(v, int) and v > 0 for v in result.notes.values())
        graph_or_error(result)


EDGE_FIELD = st.one_of(IDS, st.text(st.sampled_from('ab/ ,"\r\n'), max_size=6))


@PROFILE
@given(
    rows=st.lists(
        st.tuples(EDGE_FIELD, EDGE_FIELD, st.sampled_from(["finetune", "LoRA", "", "odd"])), max_size=12
    ),
    encoding=st.sampled_from(["utf-8", "utf-8-sig"]),
    newline=st.sampled_from(["\n", "\r\n"]),
)
def test_edge_csv_rows_survive_with_their_ids(
    rows: list[tuple[str, str, str]], encoding: str, newline: str
) -> None:
    with scratch() as folder:
        path = folder / "e.csv"
        buffer = io.StringIO()
        # csv.writer quotes a field with a line break only if the break is in its line terminator
        writer = csv.writer(
            buffer, lineterminator=newline, quoting=csv.QUOTE_ALL if newline == "\n" else csv.QUOTE_MINIMAL
        )
        writer.writerow(["source", "target", "relation"])
        writer.writerows(rows)
        path.write_bytes(buffer.getvalue().encode(encoding))
        result = read_or_input_error(path)
        broken = [i for i, row in enumerate(rows, 1) if any("\n" in f or "\r" in f for f in row)]
        if not rows:
            assert isinstance(result, InputError) and "no edge rows" in result.message
            return
        if broken:  # a line break inside an id: what an unbalanced quote looks like, so an error at that row
            assert isinstance(result, InputError) and result.row == broken[0], result
            return
        assert isinstance(result, Snapshot), result
        assert list(result.links["row"]) == list(range(1, len(rows) + 1))
        for (source, target, _), parent, child in zip(
            rows, result.links["parent"], result.links["child"], strict=True
        ):
            assert safe(parent) and safe(child)
            assert parent == source or not clean(source)
            assert child == target or not clean(target)
        assert result.models["id"].is_unique and result.models["id"].notna().all()
        graph_or_error(result)


@PROFILE
@given(
    ids=st.lists(st.one_of(IDS, st.none()), min_size=1, max_size=12),
    repeats=REPEATS,
    downloads=st.lists(
        st.one_of(st.integers(min_value=-5, max_value=10**12), st.none()), min_size=12, max_size=12
    ),
)
def test_hub_stats_rows_survive_with_their_ids(
    ids: list[str | None], repeats: list[tuple[int, int]], downloads: list[int | None]
) -> None:
    repeat_ids(ids, repeats, list.__getitem__, list.__setitem__)
    with scratch() as folder:
        path = folder / "h.parquet"
        table = pa.table(
            {"id": pa.array(ids, pa.string()), "downloads": pa.array(downloads[: len(ids)], pa.int64())}
        )
        pq.write_table(table, path)
        snap = read_snapshot(path)
        check_ids(snap, ids)
        got = snap.models["downloads"]
        for raw, value in zip(downloads, got, strict=False):
            assert (raw is None or raw < 0) == pd.isna(value) and (pd.isna(value) or value == raw)
        assert snap.notes.get("invalid_downloads", 0) == sum(
            1 for d in downloads[: len(ids)] if d is not None and d < 0
        )
        graph_or_error(snap)


def one_line(text: str) -> str:
    return text.replace("\n", "").replace("\r", "")


ONE_LINE = IDS.map(one_line)


@PROFILE
@given(
    nodes=st.lists(
        st.tuples(
            ONE_LINE, st.one_of(st.integers(-3, 10**9).map(str), st.text(max_size=4).map(one_line)), ONE_LINE
        ),
        min_size=1,
        max_size=10,
    ),
    repeats=REPEATS,
    edges=st.lists(st.tuples(st.integers(0, 99), st.one_of(st.integers(0, 99), ONE_LINE)), max_size=10),
)
def test_node_csv_rows_survive_with_their_ids(
    nodes: list[tuple[str, str, str]], repeats: list[tuple[int, int]], edges: list[tuple[int, int | str]]
) -> None:
    rows = [list(n) for n in nodes]
    repeat_ids(rows, repeats, lambda rs, i: rs[i][0], lambda rs, j, v: rs[j].__setitem__(0, v))
    # parents are node ids; children are node ids or new ids (models only in the edge file)
    pairs = [(rows[a % len(rows)][0], b if isinstance(b, str) else rows[b % len(rows)][0]) for a, b in edges]
    with scratch() as folder:
        for name, header, body in (
            ("n.csv", ["id", "downloads", "license"], rows),
            ("e.csv", ["source", "target"], pairs or [("x/p", "x/c")]),
        ):
            buffer = io.StringIO()
            csv.writer(buffer).writerows([header, *body])
            (folder / name).write_text(buffer.getvalue(), encoding="utf-8")
        snap = read_or_input_error(folder / "e.csv", nodes=folder / "n.csv")
        assert isinstance(snap, Snapshot), snap
        extra = snap.notes.get("children_only_in_edges", 0)
        assert len(snap.models) == len(rows) + extra
        check_ids(snap, [r[0] for r in rows] + list(snap.models["id"][len(rows) :]))
        graph_or_error(snap)


def graph_or_error(snap: Snapshot) -> None:
    """A snapshot whose rows all lack ids is an InputError; any other makes a graph that accounts for all."""
    if snap.models["id"].isna().all():
        try:
            build_graph(snap)
        except InputError as exc:
            assert "no models" in exc.message
            return
        raise AssertionError("a snapshot without ids built a graph")
    check_graph(snap, build_graph(snap))


# ----------------------------------------------------------------------------------------------- repairs

POOL = ["a", "b", "c", "d", "e", "f", "g", "h"]
NAMES = st.one_of(st.sampled_from(POOL), st.none())
PARENTS = st.one_of(st.sampled_from([*POOL, "ghost/x", "ghost/y"]), st.none())
RAW_RELATIONS = st.sampled_from(["finetune", "Quantization", "LoRA", "merged", "distillation", None])


@st.composite
def snapshots(draw: st.DrawFn) -> Snapshot:
    """Random models (duplicates, missing ids) and links (self-loops, cycles, duplicates, missing parents).

    Half are edge lists (links numbered on their own), half have each link come from a model row."""
    ids = draw(st.lists(NAMES, min_size=1, max_size=10))
    by_row = draw(st.booleans())
    if by_row:
        rows = draw(st.lists(st.integers(1, len(ids)), max_size=24))
        links = [(r, ids[r - 1], draw(PARENTS), draw(RAW_RELATIONS)) for r in rows]
    else:
        links = [
            (i + 1, draw(NAMES), draw(PARENTS), draw(RAW_RELATIONS)) for i in range(draw(st.integers(0, 24)))
        ]
    models = pd.DataFrame({"row": range(1, len(ids) + 1), "id": pd.Series(ids, dtype=object)})
    for col in MODEL_COLUMNS[2:]:
        models[col] = float("nan") if col in ("downloads", "likes") else None
    frame = pd.DataFrame(links, columns=LINK_COLUMNS).astype(object).astype({"row": "int64"})
    return Snapshot(models[MODEL_COLUMNS], frame, {"path": "p"}, links_by_model_row=by_row)


def kept_rows(snap: Snapshot) -> dict[str, int]:
    """id -> row of the model that stays: the first row with each id."""
    kept: dict[str, int] = {}
    for row, model_id in zip(snap.models["row"], snap.models["id"], strict=True):
        if model_id is not None and model_id not in kept:
            kept[model_id] = row
    return kept


def is_dag(n: int, edges: list[tuple[int, int]]) -> bool:
    indegree = [0] * n
    out: list[list[int]] = [[] for _ in range(n)]
    for s, t in edges:
        out[s].append(t)
        indegree[t] += 1
    ready = [v for v in range(n) if indegree[v] == 0]
    seen = 0
    while ready:
        v = ready.pop()
        seen += 1
        for t in out[v]:
            indegree[t] -= 1
            if indegree[t] == 0:
                ready.append(t)
    return seen == n


def check_graph(snap: Snapshot, graph: Any) -> None:
    nodes, edges, report = graph.nodes, graph.edges, graph.report
    kept = kept_rows(snap)
    real = nodes.loc[~nodes["virtual"], "id"]
    assert set(real) == set(kept) and report["models"] == len(kept) == len(real)
    # accounting: every input row is a model or a dropped row, never both
    dropped = {d["row"] for d in report["dropped_rows"]}
    assert dropped.isdisjoint(kept.values()) and dropped | set(kept.values()) == set(snap.models["row"])
    assert report["input_rows"] == report["models"] + report["dropped_total"] == len(snap.models)
    # a DAG without self-loops or duplicate links, sorted, endpoints in range
    pairs = list(zip(edges["source"], edges["target"], strict=True))
    assert all(s != t for s, t in pairs) and len(set(pairs)) == len(pairs)
    assert all(0 <= v < len(nodes) for pair in pairs for v in pair)
    assert is_dag(len(nodes), pairs)
    assert pairs == sorted(pairs, key=lambda p: (p[1], p[0]))
    assert list(nodes["id"]) == sorted(nodes["id"])
    # virtual nodes: exactly the parents named by a surviving link and absent from the models
    links = snap.links
    if snap.links_by_model_row:
        links = links[links["row"].isin(set(kept.values()))]
    named = {
        p
        for c, p in zip(links["child"], links["parent"], strict=True)
        if c in kept and isinstance(p, str) and c != p
    }
    virtual = set(nodes.loc[nodes["virtual"], "id"])
    assert virtual == named - set(kept) and report["virtual"] == len(virtual)
    assert (nodes.loc[nodes["virtual"], "relation"] == "virtual").all()
    assert set(edges["relation"]) <= set(EDGE_RELATIONS)


@PROFILE
@given(snap=snapshots())
def test_repairs_give_an_accounted_dag(snap: Snapshot) -> None:
    graph_or_error(snap)


@PROFILE
@given(snap=snapshots())
def test_repairs_are_deterministic(snap: Snapshot) -> None:
    if snap.models["id"].isna().all():
        return
    first, again = build_graph(snap), build_graph(snap)
    pd.testing.assert_frame_equal(first.nodes, again.nodes)
    pd.testing.assert_frame_equal(first.edges, again.edges)
    assert first.report == again.report


@PROFILE
@given(snap=snapshots(), seed=st.randoms(use_true_random=False))
def test_link_order_does_not_change_the_graph(snap: Snapshot, seed: Any) -> None:
    """Cycles are broken by id, not by input order: shuffled links (one per child-parent pair) give the same
    edges and relations."""
    links = snap.links.drop_duplicates(["child", "parent"]).reset_index(drop=True)
    if snap.models["id"].isna().all():
        return
    order = list(range(len(links)))
    seed.shuffle(order)
    shuffled = links.iloc[order].reset_index(drop=True)
    one = build_graph(Snapshot(snap.models, links, snap.source))
    two = build_graph(Snapshot(snap.models, shuffled, snap.source))
    pd.testing.assert_frame_equal(one.nodes, two.nodes)
    pd.testing.assert_frame_equal(one.edges, two.edges)
