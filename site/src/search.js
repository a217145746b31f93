// Search: the typed id first, then every model whose id has all the query's words in any order, most
// downloaded first (ties by id order).
//
// One word is looked up in the sharded phrase tree (data/search): descend by its characters, rank by
// downloads. Several words use the word index (words.js) where the atlas has one; without it, the phrase
// tree is asked for the whole query as one phrase and for contiguous runs of its words, and the best few
// models found are checked on their id. The exact id comes from the phrase tree in both cases: it is a model
// whose phrase is the whole query. Ids come from the names blocks, only for the models shown.

import { createNames } from './names.js';
import { decodeFixed, decodeVarints, encodeKey, frontDecode, phrase, tokens } from './normalise.js';
import { createWords } from './words.js';

const MAX_RUNS = 10;
const EXACT_CHECK = 10; // models whose phrase is the whole query, checked (most downloaded first) for an exact id

export function createSearch(fetcher, urls) {
  const names = createNames(fetcher, urls);
  const words = urls.words ? createWords(fetcher, urls) : null;
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

  // { results: [{ id, downloads, vertex }], complete: false when a word search stopped at its byte budget }
  async function lookup(text, limit = 10, { signal = null } = {}) {
    const query = phrase(text);
    if (!query) return { results: [], complete: true };
    const { entries } = await descend(query);
    const exact = exactMatches(text, query, entries);
    const queryTokens = tokens(text);
    const found = queryTokens.length > 1 && words ? await byWords(text, queryTokens, limit, signal) : await byPhrase(entries, queryTokens, limit);
    const first = await exact;
    const promoted = new Set(first.map((e) => e.vertex));
    const best = found.results.filter((e) => !promoted.has(e.vertex)).slice(0, limit - first.length);
    const ids = await names.idsOf(best.map((e) => e.vertex));
    const results = [...first, ...best.map((e, i) => ({ id: ids[i], downloads: e.downloads, vertex: e.vertex }))];
    return { results, complete: found.complete };
  }

  // Start loading what a lookup of `text` will read first (the phrase tree's path, the word index), so
  // that the files are on their way while the typing goes on. Errors surface in the lookup itself.
  function prefetch(text) {
    const query = phrase(text);
    if (query) descend(query).catch(() => {});
    if (words && tokens(text).length > 1) words.prefetch(wholeWords(text));
  }

  // Every word but a last one still being typed is whole; the last is a prefix unless a space follows it.
  const typing = (text) => !/\s$/.test(text);
  function wholeWords(text) {
    const queryTokens = tokens(text);
    return [...new Set(typing(text) ? queryTokens.slice(0, -1) : queryTokens)];
  }

  function byWords(text, queryTokens, limit, signal) {
    const prefix = typing(text) ? queryTokens[queryTokens.length - 1] : null;
    return words.match(wholeWords(text), prefix, { limit, idOf: names.idOf, signal });
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

  // Without a word index: the query as one phrase, then contiguous runs of its words.
  async function byPhrase(entries, queryTokens, limit) {
    let found = entries;
    let maybe = [];
    if (found.length < limit && queryTokens.length > 1) {
      for (const run of runsOf(queryTokens)) {
        const { entries: more } = await descend(run);
        found = found.concat(more.filter((e) => coversAll(e.phrase, queryTokens)));
        maybe = maybe.concat(more.filter((e) => !coversAll(e.phrase, queryTokens)));
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
    return { results: rank(found).slice(0, limit), complete: true };
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
  return { lookup, prefetch };
}
