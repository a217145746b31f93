// Lookup over the sharded search tree: descend by characters of the query phrase, then rank by downloads.
//
// A query first matches as one phrase (its tokens contiguous, the last one a prefix). When that finds too
// few models, contiguous runs of its tokens are looked up too (longest first) and filtered to models having
// every query token as a token prefix, in any order; a single token that ends on a complete leaf is exhaustive.

import { encodeKey, phrase, phrasesOf, tokens } from './normalise.js';

const MAX_RUNS = 10;

export function createSearch(fetcher, urls) {
  const node = (prefix) => fetcher.json(urls.searchNode(encodeKey(prefix)));

  // Entries with a phrase starting with `query`; complete: every such model is there.
  async function descend(query) {
    let current = await node('');
    let prefix = '';
    for (const ch of query) {
      if (current.complete) break;
      if (!current.children.includes(ch)) return { entries: [], complete: true };
      prefix += ch;
      current = await node(prefix);
    }
    const exact = prefix === query;
    const entries = current.entries.filter((e) => exact || phrasesOf(e[0]).some((p) => p.startsWith(query)));
    return { entries, complete: current.complete };
  }

  function coversAll(id, queryTokens) {
    const idTokens = tokens(id);
    return queryTokens.every((q) => idTokens.some((t) => t.startsWith(q)));
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
    const queryTokens = tokens(text);
    if (found.length < limit && queryTokens.length > 1) {
      for (const run of runsOf(queryTokens)) {
        const { entries, complete } = await descend(run);
        found = found.concat(entries.filter((e) => coversAll(e[0], queryTokens)));
        if (complete && !run.includes(' ')) break; // a whole token's leaf: nothing else can match
      }
    }
    const seen = new Set();
    return found
      .filter((e) => !seen.has(e[2]) && seen.add(e[2]))
      .sort((a, b) => (b[1] ?? -1) - (a[1] ?? -1) || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
      .slice(0, limit)
      .map(([id, downloads, vertex]) => ({ id, downloads, vertex }));
  }

  return { lookup };
}
