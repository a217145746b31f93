// Lookup over the sharded search tree: descend by characters of the query phrase, then rank by downloads.
//
// A query first matches as one phrase (its tokens contiguous, the last one a prefix). When that finds too
// few models, contiguous runs of its tokens are looked up too (longest first), keeping the models whose
// phrase from that run on has every query token as a token prefix (the best few others are checked on their
// id). Ids come from the names blocks, only for the models checked and the results shown.

import { createNames } from './names.js';
import { decodeFixed, decodeVarints, encodeKey, frontDecode, phrase, tokens } from './normalise.js';

const MAX_RUNS = 10;
const EXACT_CHECK = 10; // models whose phrase is the whole query, checked (most downloaded first) for an exact id

export function createSearch(fetcher, urls) {
  const names = createNames(fetcher, urls);
  const width = urls.vertexWidth;
  const decoded = new WeakMap();

  // A node's entries: { phrase, vertex, downloads }.
  function entriesOf(node, prefix) {
    let entries = decoded.get(node);
    if (entries) return entries;
    const ints = decodeVarints(node.n);
    const lens = [];
    for (let i = 0; i < ints.length; i += 3) lens.push(ints[i], ints[i + 1]);
    const phrases = frontDecode(lens, node.t, prefix);
    const vertices = decodeFixed(node.v, width);
    entries = phrases.map((p, i) => ({ phrase: p, vertex: vertices[i], downloads: ints[3 * i + 2] ? ints[3 * i + 2] - 1 : null }));
    decoded.set(node, entries);
    return entries;
  }

  const node = (prefix) => fetcher.json(urls.searchNode(encodeKey(prefix)));

  // Entries with a phrase starting with `query`; complete: every such model is there.
  async function descend(query) {
    let current = await node('');
    let prefix = '';
    for (const ch of query) {
      if (current.k) break;
      if (!current.c.includes(ch)) return { entries: [], complete: true };
      prefix += ch;
      current = await node(prefix);
    }
    const entries = entriesOf(current, prefix).filter((e) => e.phrase.startsWith(query));
    return { entries, complete: current.k === 1 };
  }

  function coversAll(text, queryTokens) {
    const own = tokens(text);
    return queryTokens.every((q) => own.some((t) => t.startsWith(q)));
  }

  function runsOf(toks) {
    const runs = [];
    for (let len = toks.length - 1; len >= 1; len -= 1) {
      const ofLen = [];
      for (let i = 0; i + len <= toks.length; i += 1) ofLen.push(toks.slice(i, i + len).join(' '));
      runs.push(...ofLen.sort((a, b) => b.length - a.length));
    }
    return runs.slice(0, MAX_RUNS);
  }

  async function lookup(text, limit = 10) {
    const query = phrase(text);
    if (!query) return [];
    let found = (await descend(query)).entries;
    const exact = exactMatches(text, query, found);
    const queryTokens = tokens(text);
    let maybe = [];
    if (found.length < limit && queryTokens.length > 1) {
      for (const run of runsOf(queryTokens)) {
        const { entries } = await descend(run);
        found = found.concat(entries.filter((e) => coversAll(e.phrase, queryTokens)));
        maybe = maybe.concat(entries.filter((e) => !coversAll(e.phrase, queryTokens)));
        if (new Set(found.map((e) => e.vertex)).size >= limit) break;
      }
    }
    // Query tokens before a run's start are not in its phrase: check the best few such models by their id.
    const have = new Set(found.map((e) => e.vertex));
    if (have.size < limit && maybe.length) {
      const check = rank(maybe.filter((e) => !have.has(e.vertex))).slice(0, limit);
      const ids = await names.idsOf(check.map((e) => e.vertex));
      found = found.concat(check.filter((e, i) => coversAll(ids[i], queryTokens)));
    }
    const first = await exact;
    const promoted = new Set(first.map((e) => e.vertex));
    const best = rank(found)
      .filter((e) => !promoted.has(e.vertex))
      .slice(0, limit - first.length);
    const ids = await names.idsOf(best.map((e) => e.vertex));
    return [...first, ...best.map((e, i) => ({ id: ids[i], downloads: e.downloads, vertex: e.vertex }))];
  }

  // The typed id itself first (as typed, then in any case), then models named exactly so under any owner,
  // each group most downloaded first: only models whose phrase is the whole query can be one of them.
  async function exactMatches(text, query, entries) {
    const typed = text.trim();
    const lower = typed.toLowerCase();
    const tier = (id) => {
      if (id === typed) return 0;
      if (id.toLowerCase() === lower) return 1;
      return id.slice(id.indexOf('/') + 1).toLowerCase() === lower ? 2 : 3;
    };
    const same = rank(entries.filter((e) => e.phrase === query)).slice(0, EXACT_CHECK);
    const ids = await names.idsOf(same.map((e) => e.vertex));
    return same
      .map((e, i) => ({ id: ids[i], downloads: e.downloads, vertex: e.vertex, tier: tier(ids[i]) }))
      .filter((e) => e.tier < 3)
      .sort((a, b) => a.tier - b.tier) // stable: downloads order within a tier
      .map(({ id, downloads, vertex }) => ({ id, downloads, vertex }));
  }

  // One entry per model, most downloaded first (then by vertex, which is id order).
  function rank(entries) {
    const seen = new Set();
    return entries
      .filter((e) => !seen.has(e.vertex) && seen.add(e.vertex))
      .sort((a, b) => (b.downloads ?? -1) - (a.downloads ?? -1) || a.vertex - b.vertex);
  }
  return { lookup };
}
