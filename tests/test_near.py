"""Close-up cells (atlasgen/index/near.py): each pick cell's models with their ids, downloads and, for every
layer that colours all models, the same legend entry the map's tiles give them (atlas.json's legend)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from atlasgen.index.codec import ALPHABET, decode_varints, front_decode

DATA = Path(__file__).parent / "data" / "viewer"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from atlasgen.pipeline.build import build_atlas

    out = tmp_path_factory.mktemp("near") / "atlas"
    build_atlas(DATA / "edges.csv", out, nodes=DATA / "nodes.csv", seed=0, backend="cpu", progress=False)
    return out


def test_close_up_cells_match_positions_and_legends(site: Path) -> None:
    from atlasgen.tools.figure.scene import encode

    atlas = json.loads((site / "atlas.json").read_text(encoding="utf-8"))
    positions = pd.read_parquet(site / "positions.parquet").sort_values("id").reset_index(drop=True)
    near, pick = atlas["data"]["near"], atlas["data"]["pick"]
    z = pick["zoom"]
    bases = [layer["id"] for layer in atlas["layers"] if not layer.get("overlay")]
    assert set(bases) <= set(near["layers"])
    expected = {layer: encode(layer, atlas, positions)[0] for layer in bases}
    seen: list[str] = []
    for path in sorted((site / "data" / "near" / str(z)).glob("*/*.json")):
        cell = json.loads(path.read_text(encoding="utf-8"))
        assert (site / "data" / "pick" / str(z) / path.parent.name / path.name).is_file()  # one per pick cell
        ids = front_decode(decode_varints(cell["n"]), cell["t"])
        assert ids == sorted(ids)  # vertex order, as in the pick cell
        rows = positions.set_index("id").loc[ids]
        want = rows["downloads"].fillna(-1).astype(np.int64).to_numpy() + 1
        assert decode_varints(cell["d"]) == want.tolist()
        vertices = positions.index[positions["id"].isin(ids)].to_numpy()
        for layer in bases:
            codes = [ALPHABET.index(c) for c in cell["k"][layer]]
            assert codes == expected[layer][vertices].tolist(), (layer, path)
        seen += ids
    assert sorted(seen) == positions["id"].tolist()  # every model in exactly one cell
