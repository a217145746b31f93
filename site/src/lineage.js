// Lineage around one model, fetched hop by hop from the detail chunks: the ancestry up to the roots (every
// parent line of a merge) and the descendants a few generations down, both capped.

export const MAX_GENERATIONS = 12;
export const MAX_ANCESTORS = 40;
export const DESCENDANT_GENERATIONS = 2;
export const MAX_DESCENDANTS = 120;

// The ancestry as a tree of { model, vertex, id, relation (of the child below to this one), parents,
// repeat (already listed on another line), more (parents left out), deeper (lines cut at the generation cap) }.
export async function ancestry(details, model, { generations = MAX_GENERATIONS, limit = MAX_ANCESTORS } = {}) {
  const top = { model, vertex: model.vertex, id: model.id, relation: null, parents: [], repeat: false, more: 0, deeper: 0 };
  const listed = new Set([model.vertex]);
  let count = 0;
  let depth = 0;
  let frontier = [top];
  while (frontier.length) {
    if (depth === generations) {
      for (const node of frontier) node.deeper = node.model.parents.length;
      break;
    }
    const loads = []; // in listing order: the next generation keeps it, whatever order the chunks arrive in
    for (const node of frontier) {
      for (const [vertex, id, relation] of node.model.parents) {
        const child = { model: null, vertex, id, relation, parents: [], repeat: listed.has(vertex), more: 0, deeper: 0 };
        if (!child.repeat && count >= limit) {
          node.more += 1;
          continue;
        }
        node.parents.push(child);
        if (child.repeat) continue;
        listed.add(vertex);
        count += 1;
        loads.push(details.get(vertex).then((m) => ((child.model = m || null), child)));
      }
    }
    frontier = (await Promise.all(loads)).filter((child) => child.model);
    depth += 1;
  }
  return { tree: top, models: count };
}

// Generations (deepest line) and declared-licence changes along every hop of an ancestry tree.
export function summarise(tree) {
  let generations = 0;
  const changes = new Map(); // "from → to" -> [from, to]
  const walk = (node, depth) => {
    generations = Math.max(generations, depth);
    for (const parent of node.parents) {
      const change = licenceChange(parent, node);
      if (change) changes.set(change.join(' → '), change);
      if (parent.model && !parent.repeat) walk(parent, depth + 1);
    }
  };
  walk(tree, 0);
  return { generations, changes: [...changes.values()] };
}

// [parent's licence, child's licence] when both are declared and differ.
export function licenceChange(parent, child) {
  const from = parent.model?.licence;
  const to = child.model?.licence;
  return from && to && from !== to ? [from, to] : null;
}

// Descendants for the map overlay: { nodes: [model], edges: [[parent, child, relation]], more }.
// The same model always gives the same drawing: candidates are taken in a fixed order (each generation's
// models in order, each one's children as its details list them, most downloaded first) whatever order the
// detail chunks arrive in, and `more` counts each model left out once, however many parents it has.
export async function descendants(details, model, { generations = DESCENDANT_GENERATIONS, limit = MAX_DESCENDANTS } = {}) {
  const seen = new Set([model.vertex]);
  const nodes = [];
  const edges = [];
  const left = new Set(); // listed descendants not drawn (over the cap, or a generation below the last)
  let unlisted = 0; // children beyond those a model's details list: counted, their ids are not known here
  let frontier = [model];
  for (let g = 0; g < generations && frontier.length; g += 1) {
    const parents = childrenOf(frontier, seen);
    unlisted += frontier.reduce((n, m) => n + m.children_total - m.children.length, 0);
    const wanted = [...parents.keys()];
    const taken = wanted.slice(0, Math.max(0, limit - nodes.length));
    for (const vertex of wanted.slice(taken.length)) left.add(vertex);
    for (const vertex of taken) {
      seen.add(vertex);
      left.delete(vertex);
    }
    const loaded = await Promise.all(taken.map((vertex) => details.get(vertex)));
    frontier = loaded.filter(Boolean);
    for (const child of frontier) for (const [parent, relation] of parents.get(child.vertex)) edges.push([parent, child, relation]);
    nodes.push(...frontier);
  }
  for (const vertex of childrenOf(frontier, seen).keys()) left.add(vertex);
  unlisted += frontier.reduce((n, m) => n + m.children_total - m.children.length, 0);
  return { nodes, edges, more: left.size + unlisted };
}

// The children of `models` not in `seen`, in first-listed order: vertex -> [[parent, relation]].
function childrenOf(models, seen) {
  const parents = new Map();
  for (const parent of models) {
    for (const [vertex, , relation] of parent.children) {
      if (seen.has(vertex)) continue;
      if (!parents.has(vertex)) parents.set(vertex, []);
      parents.get(vertex).push([parent, relation]);
    }
  }
  return parents;
}
