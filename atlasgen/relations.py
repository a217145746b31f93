"""The relation vocabulary: how a model relates to its parent, for every stage that names it.

A bottom module (it imports nothing from atlasgen): the ingest stage reads relations out of Hub tags before
the graph stage exists, and the tiles, figure and trends code colour and count the same names. Colours and
legend labels stay with the tiles' palette, keyed by these names.

- STATED_RELATIONS: what a snapshot can state about a link;
- EDGE_RELATIONS: what a link's raw relation normalises to (graph.dag): the stated ones, or "unknown";
- RELATIONS: a node's relation to its parent: its links' relation, "base" for a root and "virtual" for a
  parent missing from the snapshot;
- TAG_RELATIONS / ALIASES: the spellings read from snapshots;
- SYNTH_RELATIONS: the relations `atlasgen synth` generates.
"""

from __future__ import annotations

STATED_RELATIONS: tuple[str, ...] = ("finetune", "adapter", "quantized", "merge")

# Legend order, and the edge layer's category (colour key) order: part of the atlas' contract.
EDGE_RELATIONS: tuple[str, ...] = (*STATED_RELATIONS, "unknown")

# Legend order, and the relation layer's category (colour key) order that the viewer reads.
RELATIONS: tuple[str, ...] = ("base", *EDGE_RELATIONS, "virtual")

# The Hub's lineage tags, `base_model:{relation}:{id}`, spell the stated relations exactly as atlasgen does.
TAG_RELATIONS: frozenset[str] = frozenset(STATED_RELATIONS)

# Raw relation text (stripped, lower-cased) -> its normalised relation; anything else is "unknown".
ALIASES: dict[str, str] = {
    "finetune": "finetune",
    "finetuned": "finetune",
    "fine-tune": "finetune",
    "fine-tuned": "finetune",
    "fine_tune": "finetune",
    "quantized": "quantized",
    "quantization": "quantized",
    "quantised": "quantized",
    "quant": "quantized",
    "adapter": "adapter",
    "adapters": "adapter",
    "lora": "adapter",
    "peft": "adapter",
    "merge": "merge",
    "merged": "merge",
    "merges": "merge",
}

# The stated relations in synth's role-code order (role 2 + index): a seed's synthetic Hub depends on this
# order, so reordering it changes every file `atlasgen synth` writes.
SYNTH_RELATIONS: tuple[str, ...] = ("finetune", "quantized", "merge", "adapter")
