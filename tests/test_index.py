"""The static index: search tree, id buckets, detail chunks and pick cells, on tiny hand-made frames.

``lookup`` below is a line-for-line Python twin of the viewer's ``site/src/search.js``: it reads only the
files the viewer would fetch.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from atlasgen import index

HOSTILE = [
    '"><img src=x onerror=alert(1)>',
    'quote/it\'s "quoted" \\ back',
    "ünïcode/モデル-ja",
    "rtl/\u202eevil\u202c-\u200f-mark",
    "evil/</script><script>alert(1)</script>",
]
IDS = [
    "meta-llama/Meta-Llama-3-8B",
    "meta-llama/Meta-Llama-3-8B-Instruct",
    "QuantFactory/Meta-Llama-3-8B-Instruct-GGUF",
    "bartowski/Meta-Llama-3-8B-Instruct-GGUF",
    "TheBloke/Llama-2-7B-GGUF",
    "TheBloke/Llama-2-7B-AWQ",
    "meta-llama/Llama-2-7b-hf",
    "mistralai/Mistral-7B-v0.1",
    "mistralai/Mistral-7B-Instruct-v0.2",
    "gpt2",
    "distilbert/distilbert-base-uncased",
    "google-bert/bert-base-uncased",
    "lonely/model",
    *HOSTILE,
]
EDGES = [
    ("meta-llama/Meta-Llama-3-8B", "meta-llama/Meta-Llama-3-8B-Instruct", "finetune"),
    ("meta-llama/Meta-Llama-3-8B-Instruct", "QuantFactory/Meta-Llama-3-8B-Instruct-GGUF", "quantized"),
    ("meta-llama/Meta-Llama-3-8B-Instruct", "bartowski/Meta-Llama-3-8B-Instruct-GGUF", "quantized"),
    ("meta-llama/Llama-2-7b-hf", "TheBloke/Llama-2-7B-GGUF", "quantized"),
    ("meta-llama/Llama-2-7b-hf", "TheBloke/Llama-2-7B-AWQ", "quantized"),
    ("mistralai/Mistral-7B-v0.1", "mistralai/Mistral-7B-Instruct-v0.2", "finetune"),
    ("google-bert/bert-base-uncased", "distilbert/distilbert-base-uncased", "finetune"),
    ("meta-llama/Meta-Llama-3-8B", HOSTILE[0], "adapter"),
    ("mistralai/Mistral-7B-v0.1", HOSTILE[0], "merge"),
    (HOSTILE[0], HOSTILE[1], "finetune"),
]


def _frames() -> tuple[pd.DataFrame, pd.DataFrame, np.ndarray]:
    ids = sorted(IDS)
    vertex = {m: v for v, m in enumerate(ids)}
    rng = np.random.default_rng(0)
    has_parent = {t for _, t, _ in EDGES}
    relation = {t: r for _, t, r in EDGES}
    nodes = pd.DataFrame(
        {
            "id": ids,
            "author": [m.split("/")[0] if "/" in m else m for m in ids],
            "relation": [relation[m] if m in has_parent else "base" for m in ids],
            "virtual": [m == "lonely/model" for m in ids],
            "downloads": [
                np.nan if m == "lonely/model" else float((v * 7919) % 1000) for v, m in enumerate(ids)
            ],
            "likes": [float(v) for v in range(len(ids))],
            "licence": ["mit" if v % 2 else None for v in range(len(ids))],
            "pipeline_tag": ["text-generation" if "llama" in m.lower() else None for m in ids],
            "library_name": ["transformers"] * len(ids),
            "created_at": ["2024-04-18"] * len(ids),
        }
    )
    edges = pd.DataFrame(
        {
            "source": [vertex[s] for s, _, _ in EDGES],
            "target": [vertex[t] for _, t, _ in EDGES],
            "relation": [r for _, _, r in EDGES],
        }
    ).astype({"source": "int64", "target": "int64"})
    xy = rng.uniform(10, 246, size=(len(ids), 2))
    xy[vertex["gpt2"]] = [0.0, 256.0]  # on the world's edge
    return nodes, edges, xy


@pytest.fixture(params=[1000, 2], ids=["one-leaf", "deep-tree"])
def built(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    monkeypatch.setattr(index, "LEAF_MAX", request.param)
    monkeypatch.setattr(index, "TOP", 2)
    monkeypatch.setattr(index, "CHUNK", 4)
    monkeypatch.setattr(index, "IDS_PER_BUCKET", 3)
    monkeypatch.setattr(index, "PICK_MAX", 3)
    nodes, edges, xy = _frames()
    data = index.write_index(nodes, edges, xy, tmp_path)
    return {"root": tmp_path, "data": data, "nodes": nodes, "edges": edges, "xy": xy}


def _read(root: Path, rel: str) -> Any:
    return json.loads((root / rel).read_text(encoding="utf-8"))


def _fill(template: str, **values: object) -> str:
    for name, value in values.items():
        template = template.replace("{" + name + "}", str(value))
    return template


def lookup(root: Path, data: dict[str, Any], text: str, limit: int = 10) -> list[str]:
    """The viewer's search (search.js), reading the same files."""

    def node(prefix: str) -> Any:
        return _read(root, _fill(data["search"]["template"], key=index.encode_key(prefix)))

    def descend(query: str) -> tuple[list[list[Any]], bool]:
        current, prefix = node(""), ""
        for ch in query:
            if current["complete"]:
                break
            if ch not in current["children"]:
                return [], True
            prefix += ch
            current = node(prefix)
        entries = [
            e
            for e in current["entries"]
            if prefix == query or any(p.startswith(query) for p in _all_phrases(e[0]))
        ]
        return entries, current["complete"]

    def covers_all(model_id: str, query_tokens: list[str]) -> bool:
        return all(any(t.startswith(q) for t in index.tokens(model_id)) for q in query_tokens)

    query = " ".join(index.tokens(text))
    if not query:
        return []
    found, _ = descend(query)
    toks = index.tokens(text)
    if len(found) < limit and len(toks) > 1:
        runs = []
        for n in range(len(toks) - 1, 0, -1):
            runs += sorted(
                (" ".join(toks[i : i + n]) for i in range(len(toks) - n + 1)), key=len, reverse=True
            )
        for run in runs[:10]:
            entries, complete = descend(run)
            found += [e for e in entries if covers_all(e[0], toks)]
            if complete and " " not in run:
                break
    seen: set[int] = set()
    unique = [e for e in found if not (e[2] in seen or seen.add(e[2]))]  # type: ignore[func-returns-value]
    unique.sort(key=lambda e: (-(e[1] if e[1] is not None else -1), e[0]))
    return [e[0] for e in unique[:limit]]


def _all_phrases(model_id: str) -> list[str]:
    toks = index.tokens(model_id)
    return [" ".join(toks[i:]) for i in range(len(toks))]


def test_every_model_found_by_id_name_and_token_prefixes(built: dict[str, Any]) -> None:
    root, data = built["root"], built["data"]
    for model_id in IDS:
        if not index.tokens(model_id):
            continue
        assert model_id in lookup(root, data, model_id, limit=50), model_id
        name = model_id.split("/", 1)[-1]
        assert model_id in lookup(root, data, name, limit=50), (model_id, name)
        assert model_id in lookup(root, data, name.upper(), limit=50)
        # a short prefix ends on an inner node of a deep tree: the best models under it, never nothing
        assert lookup(root, data, index.tokens(name)[0][:2])


def test_search_token_prefixes_and_ranking(built: dict[str, Any]) -> None:
    root, data, nodes = built["root"], built["data"], built["nodes"]
    ggufs = {"QuantFactory/Meta-Llama-3-8B-Instruct-GGUF", "bartowski/Meta-Llama-3-8B-Instruct-GGUF"}
    got = lookup(root, data, "llama 3 8b instruct gguf")  # contiguous tokens: exact at any tree depth
    assert set(got) == ggufs
    downloads = dict(zip(nodes["id"], nodes["downloads"], strict=True))
    assert [downloads[m] for m in got] == sorted((downloads[m] for m in got), reverse=True)
    # tokens not contiguous: exact while the runs end on leaves, the best matches once they end on inner nodes
    loose = set(lookup(root, data, "llama 3 8b gguf"))
    assert loose == ggufs if len(IDS) < index.LEAF_MAX else loose and loose <= ggufs
    assert "TheBloke/Llama-2-7B-GGUF" in lookup(root, data, "llama 7b gguf")
    assert "TheBloke/Llama-2-7B-AWQ" in lookup(root, data, "thebloke/llama-2")
    assert "TheBloke/Llama-2-7B-AWQ" in lookup(root, data, "the")
    assert "mistralai/Mistral-7B-Instruct-v0.2" in lookup(root, data, "mistral 7b instr")
    assert lookup(root, data, "zzz-no-such") == []
    assert lookup(root, data, " / - ") == []


def test_search_tree_shape(built: dict[str, Any]) -> None:
    root, data = built["root"], built["data"]
    files = sorted((root / "data" / "search").glob("*.json"))
    assert len(files) == data["search"]["nodes"]
    for f in files:
        node = json.loads(f.read_text(encoding="utf-8"))
        assert set(node) == {"children", "complete", "entries"}
        ranks = [(-(d if d is not None else -1), i) for i, d, _ in node["entries"]]
        assert ranks == sorted(ranks)
        if node["complete"]:
            assert node["children"] == []
            assert len(node["entries"]) <= index.LEAF_MAX
    if index.LEAF_MAX == 2:
        assert data["search"]["nodes"] > 10  # the deep tree really is deep


def test_exact_id_resolves_with_one_bucket(built: dict[str, Any]) -> None:
    root, data = built["root"], built["data"]
    ids = data["ids"]
    assert ids["buckets"] == -(-len(IDS) // 3)
    for v, model_id in enumerate(built["nodes"]["id"]):
        bucket = _read(root, _fill(ids["template"], bucket=index.fnv1a32(model_id) % ids["buckets"]))
        assert bucket[model_id] == v
    assert index.fnv1a32("") == 0x811C9DC5
    assert index.fnv1a32("a") == 0xE40C292C  # FNV-1a reference value


def test_details_carry_lineage(built: dict[str, Any]) -> None:
    root, data, nodes = built["root"], built["data"], built["nodes"]
    det = data["details"]
    vertex = {m: v for v, m in enumerate(nodes["id"])}

    def get(model_id: str) -> dict[str, Any]:
        v = vertex[model_id]
        chunk = _read(root, _fill(det["template"], chunk=v // det["chunk_size"]))
        return dict(zip(chunk["fields"], chunk["rows"][v - chunk["start"]], strict=True))

    instruct = get("meta-llama/Meta-Llama-3-8B-Instruct")
    assert instruct["parents"] == [
        [vertex["meta-llama/Meta-Llama-3-8B"], "meta-llama/Meta-Llama-3-8B", "finetune"]
    ]
    assert instruct["children_total"] == 2
    assert instruct["children_by_relation"] == {"quantized": 2}
    assert {c[1] for c in instruct["children"]} == {
        "QuantFactory/Meta-Llama-3-8B-Instruct-GGUF",
        "bartowski/Meta-Llama-3-8B-Instruct-GGUF",
    }
    assert [c[3] for c in instruct["children"]] == sorted((c[3] for c in instruct["children"]), reverse=True)
    merged = get(HOSTILE[0])
    assert {(p[1], p[2]) for p in merged["parents"]} == {
        ("meta-llama/Meta-Llama-3-8B", "adapter"),
        ("mistralai/Mistral-7B-v0.1", "merge"),
    }
    lonely = get("lonely/model")
    assert lonely["virtual"] is True and lonely["downloads"] is None and lonely["licence"] in (None, "mit")
    assert lonely["parents"] == [] and lonely["children"] == [] and lonely["children_by_relation"] == {}
    assert get("gpt2")["x"] == 0.0 and get("gpt2")["y"] == 256.0


def test_children_are_capped_by_downloads(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(index, "CHILDREN_CAP", 2)
    ids = ["base/m", *(f"kid/{i}" for i in range(5))]
    nodes = pd.DataFrame(
        {
            "id": ids,
            "author": [i.split("/")[0] for i in ids],
            "relation": ["base", "quantized", "finetune", "quantized", "adapter", "quantized"],
            "virtual": [False] * 6,
            "downloads": [1.0, 5.0, np.nan, 50.0, 7.0, 3.0],
            "likes": [np.nan] * 6,
            "licence": [None] * 6,
            "pipeline_tag": [None] * 6,
            "library_name": [None] * 6,
            "created_at": [None] * 6,
        }
    )
    edges = pd.DataFrame(
        {
            "source": [0] * 5,
            "target": [1, 2, 3, 4, 5],
            "relation": ["quantized", "finetune", "quantized", "adapter", "quantized"],
        }
    )
    index.write_index(nodes, edges, np.full((6, 2), 128.0), tmp_path)
    row = dict(zip(index.DETAIL_FIELDS, _read(tmp_path, "data/detail/0.json")["rows"][0], strict=True))
    assert [c[1] for c in row["children"]] == ["kid/2", "kid/3"]
    assert row["children_total"] == 5
    assert row["children_by_relation"] == {"adapter": 1, "finetune": 1, "quantized": 3}


def test_pick_cells_hold_every_model_once(built: dict[str, Any]) -> None:
    root, data, xy = built["root"], built["data"], built["xy"]
    pick = data["pick"]
    z = pick["zoom"]
    side = 2**z
    bits = base64.b64decode(pick["occupied"])
    seen: list[int] = []
    files = list((root / "data" / "pick").rglob("*.json"))
    assert len(files) == pick["cells"]
    for f in files:
        cx, cy = int(f.parent.name), int(f.stem)
        assert int(f.parent.parent.name) == z
        i = cy * side + cx
        assert bits[i >> 3] >> (i & 7) & 1
        points = _read(root, str(f.relative_to(root)))["points"]
        assert 0 < len(points) <= index.PICK_MAX or z == max(index.PICK_ZOOMS)
        for x, y, v in points:
            assert (x, y) == (round(xy[v, 0], 4), round(xy[v, 1], 4))
            assert min(int(x * side / 256), side - 1) == cx and min(int(y * side / 256), side - 1) == cy
            seen.append(v)
    assert sorted(seen) == list(range(len(IDS)))
    assert sum(bin(b).count("1") for b in bits) == pick["cells"]


def test_output_is_deterministic(tmp_path: Path) -> None:
    nodes, edges, xy = _frames()
    first = index.write_index(nodes, edges, xy, tmp_path / "a")
    second = index.write_index(nodes, edges, xy, tmp_path / "b")
    assert first == second
    files_a = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*") if p.is_file())
    files_b = sorted(p.relative_to(tmp_path / "b") for p in (tmp_path / "b").rglob("*") if p.is_file())
    assert files_a == files_b
    for rel in files_a:
        assert (tmp_path / "a" / rel).read_bytes() == (tmp_path / "b" / rel).read_bytes(), rel
    again = index.write_index(nodes, edges, xy, tmp_path / "a")  # rewriting replaces, leaves nothing stale
    assert again == first
    assert (
        sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*") if p.is_file()) == files_a
    )


def test_hostile_ids_round_trip(built: dict[str, Any]) -> None:
    root = built["root"]
    texts = [p.read_text(encoding="utf-8") for p in (root / "data").rglob("*.json")]
    blob = "\n".join(texts)
    for model_id in HOSTILE:
        assert json.dumps(model_id, ensure_ascii=False)[1:-1] in blob  # JSON's own escaping, nothing more
    assert "\\u003c" not in blob and "&lt;" not in blob and "\\u202e" not in blob
    in_search, in_details, in_buckets = set(), set(), set()
    for text in texts:
        obj = json.loads(text)
        if "entries" in obj:
            in_search |= {e[0] for e in obj["entries"]}
        elif "rows" in obj:
            in_details |= {r[0] for r in obj["rows"]}
        elif "points" not in obj:
            in_buckets |= set(obj)
    for found in (in_search, in_details, in_buckets):
        assert set(HOSTILE) <= found


def test_encode_key() -> None:
    assert index.encode_key("") == "_root"
    assert index.encode_key("llama 3") == "llama_3"
    assert index.encode_key('"<ü') == "-22-3c-c3-bc"
    assert index.encode_key("モ") == "-e3-83-a2"


def test_phrases() -> None:
    assert index.tokens("Meta-Llama/Llama_3.1  8B") == ["meta", "llama", "llama", "3", "1", "8b"]
    assert index.phrases("meta-llama/Llama-3-8B") == ["meta llama llama 3 8b", "llama 3 8b", "3 8b", "8b"]
    assert index.phrases("gpt2") == ["gpt2"]
    assert index.phrases("---") == []


def test_shape_mismatch_is_a_bug(tmp_path: Path) -> None:
    nodes, edges, xy = _frames()
    with pytest.raises(ValueError, match="shape"):
        index.write_index(nodes, edges, xy[:3], tmp_path)


def test_viewer_normalises_like_the_index() -> None:
    """site/src/normalise.js (run by node) agrees with index.py on tokens, keys and the id hash."""
    import shutil
    import subprocess

    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    module = Path(__file__).resolve().parents[1] / "site" / "src" / "normalise.js"
    samples = [*IDS, "Meta-Llama/Llama_3.1  8B", "İstanbul/ΣΑΣ", "x" * 300]
    script = (
        f"import * as n from {json.dumps(module.as_uri())};"
        "const ids = JSON.parse(process.argv[1]);"
        "console.log(JSON.stringify(ids.map((s) => [n.tokens(s), n.encodeKey(n.phrase(s)), n.fnv1a32(s)])));"
    )
    result = subprocess.run(
        [node, "--input-type=module", "-e", script, json.dumps(samples)],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    expected = [
        [index.tokens(s), index.encode_key(" ".join(index.tokens(s))), index.fnv1a32(s)] for s in samples
    ]
    assert json.loads(result.stdout) == expected
