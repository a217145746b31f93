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
    const next = [];
    const loads = [];
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
        loads.push(details.get(vertex).then((m) => m && ((child.model = m), next.push(child))));
      }
    }
    await Promise.all(loads);
    depth += 1;
    frontier = next;
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
export async function descendants(details, model, { generations = DESCENDANT_GENERATIONS, limit = MAX_DESCENDANTS } = {}) {
  const seen = new Set([model.vertex]);
  const nodes = [];
  const edges = [];
  let more = 0;
  let frontier = [model];
  for (let g = 0; g < generations && frontier.length; g += 1) {
    const next = [];
    const loads = [];
    for (const parent of frontier) {
      more += parent.children_total - parent.children.length;
      for (const [vertex, , relation] of parent.children) {
        if (seen.has(vertex)) continue;
        if (nodes.length + loads.length >= limit) {
          more += 1;
          continue;
        }
        seen.add(vertex);
        loads.push(
          details.get(vertex).then((child) => {
            if (!child) return;
            next.push(child);
            edges.push([parent, child, relation]);
          }),
        );
      }
    }
    await Promise.all(loads);
    nodes.push(...next);
    frontier = next;
  }
  for (const m of frontier) more += m.children_total;
  return { nodes, edges, more };
}
