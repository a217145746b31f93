// Word search over data/words (atlasgen/index/words.py): the models whose id has every word of a query, in
// any order, most downloaded first. Each word's list holds ranks (position by downloads) ascending, so the
// lists are intersected from the top and the walk stops at the first `limit` models, or at a byte budget
// (then the answer is the top of the models ranked above where it stopped, and says so).
//
// The last word of a query still being typed is a prefix: it matches the tokens it starts (their lists
// merged) when those are few, else each candidate's id is checked for it.

import { decodeFixed, decodeVarints, encodeKey, frontDecode, tokens } from './normalise.js';

const BUDGET = 120_000; // characters fetched per query, index included (the bound is 150 KB)
const UNION_SHARE = 0.4; // of the budget: what a prefix's merged lists may cost before ids are checked instead
const CHARS_PER_RANK = 1.5; // about, in a common list's page (differences of a few thousand at most)
const SHARD_CHARS = 12_000; // about, the most a rare-token shard holds

// The smallest value >= r in an ascending array (Infinity when none).
function seekIn(ranks, r) {
  let lo = 0;
  let hi = ranks.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (ranks[mid] < r) lo = mid + 1;
    else hi = mid;
  }
  return lo < ranks.length ? ranks[lo] : Infinity;
}

const cumulative = (gaps) => {
  let r = 0;
  return gaps.map((g) => (r += g));
};

export function createWords(fetcher, urls) {
  const spec = urls.words;
  const load = (url) => fetcher.json(url);

  let indexPromise = null;
  function index() {
    indexPromise ||= load(spec.index).then((data) => {
      const ints = decodeVarints(data.n);
      const lens = [];
      for (let i = 0; i < ints.length; i += 4) lens.push(ints[i], ints[i + 1]);
      const tokens = frontDecode(lens, data.t);
      const firsts = decodeVarints(data.f);
      const common = new Map();
      let page = 0;
      tokens.forEach((token, i) => {
        const pages = ints[4 * i + 3];
        common.set(token, { count: ints[4 * i + 2], firsts: firsts.slice(page, page + pages) });
        page += pages;
      });
      return { common, sorted: tokens, page: data.page, shards: frontDecode(decodeVarints(data.s), data.u) };
    });
    indexPromise.catch(() => (indexPromise = null)); // a failed fetch is tried again by the next query
    return indexPromise;
  }

  const shardCache = new Map();
  function shard(key) {
    if (!shardCache.has(key)) {
      shardCache.set(
        key,
        load(spec.rare(encodeKey(key))).then((data) => {
          const ints = decodeVarints(data.n);
          const lens = [];
          for (let i = 0; i < ints.length; i += 3) lens.push(ints[i], ints[i + 1]);
          const gaps = decodeVarints(data.r);
          const lists = new Map();
          let at = 0;
          frontDecode(lens, data.t).forEach((token, i) => {
            const count = ints[3 * i + 2];
            lists.set(token, cumulative(gaps.slice(at, at + count)));
            at += count;
          });
          return lists;
        }),
      );
    }
    return shardCache.get(key);
  }

  // The shard a token lives in: the longest key it starts with.
  function shardOf(shards, token) {
    let best = null;
    for (const key of shards) if (token.startsWith(key) && (best === null || key.length > best.length)) best = key;
    return best;
  }

  // A cursor over one common token's paged list: seek(r) loads at most the one page holding r.
  function pagedCursor(token, { firsts, count }) {
    const pages = new Map();
    const page = (k) => {
      if (!pages.has(k)) pages.set(k, load(spec.common(encodeKey(token), k)).then((d) => cumulative(decodeVarints(d.r))));
      return pages.get(k);
    };
    return {
      count,
      async seek(r) {
        let k = 0;
        while (k + 1 < firsts.length && firsts[k + 1] <= r) k += 1;
        const found = seekIn(await page(k), r);
        return found === Infinity && k + 1 < firsts.length ? firsts[k + 1] : found;
      },
    };
  }

  const arrayCursor = (ranks) => ({ count: ranks.length, seek: async (r) => seekIn(ranks, r) });

  // The smallest rank any of `cursors` holds at or after r.
  const unionCursor = (cursors) => ({
    count: cursors.reduce((n, c) => n + c.count, 0),
    seek: async (r) => Math.min(Infinity, ...(await Promise.all(cursors.map((c) => c.seek(r))))),
  });

  async function wordCursor(token) {
    const { common, shards } = await index();
    if (common.has(token)) return pagedCursor(token, common.get(token));
    const key = shardOf(shards, token);
    const lists = key === null ? null : await shard(key);
    return arrayCursor(lists?.get(token) || []);
  }

  // Tokens starting with `prefix` as one cursor, or null when their lists would cost too much to merge
  // (every list's first page is read at once).
  async function prefixCursor(prefix) {
    const { common, sorted, page, shards } = await index();
    const starting = sorted.filter((t) => t.startsWith(prefix));
    const keys = shards.filter((k) => k.startsWith(prefix));
    const home = shardOf(shards, prefix);
    if (home !== null && !keys.includes(home)) keys.push(home);
    const pages = starting.reduce((n, t) => n + Math.min(common.get(t).count, page), 0) * CHARS_PER_RANK;
    if (pages + keys.length * SHARD_CHARS > UNION_SHARE * BUDGET) return null;
    const cursors = starting.map((t) => pagedCursor(t, common.get(t)));
    for (const lists of await Promise.all(keys.map(shard))) {
      for (const [token, ranks] of lists) if (token.startsWith(prefix)) cursors.push(arrayCursor(ranks));
    }
    return unionCursor(cursors);
  }

  const blocks = new Map();
  async function atRank(r) {
    const b = Math.floor(r / spec.block);
    if (!blocks.has(b)) {
      blocks.set(
        b,
        load(spec.ranks(b)).then((d) => ({ vertices: decodeFixed(d.v, urls.vertexWidth), downloads: decodeVarints(d.d) })),
      );
    }
    const block = await blocks.get(b);
    const i = r - b * spec.block;
    const plus = block.downloads[i];
    return { vertex: block.vertices[i], downloads: plus ? plus - 1 : null };
  }

  // The models having every word of `words` and a token starting with `prefix` (null: none), best first:
  // { results: [{ vertex, downloads }], complete } -- complete false when the budget cut the walk short.
  // `idOf(vertex)` gives ids, for checking a prefix too short to merge; `signal` (an AbortSignal) stops a
  // walk whose query was typed over.
  async function match(words, prefix, { limit = 10, idOf, signal = null }) {
    const start = fetcher.total();
    const cost = () => fetcher.total() - start; // this query's files (the ids it checks included)
    const cursors = await Promise.all(words.map(wordCursor));
    let check = null;
    if (prefix !== null) {
      const merged = await prefixCursor(prefix);
      if (merged) cursors.push(merged);
      else check = prefix;
    }
    if (!cursors.length) return { results: [], complete: true };
    await Promise.all(cursors.map((c) => c.seek(0))); // every list's first page at once, not one after another
    cursors.sort((a, b) => a.count - b.count); // the rarest word leads
    const results = [];
    let r = 0;
    while (results.length < limit) {
      if (cost() > BUDGET || signal?.aborted) return { results, complete: false };
      const candidate = await cursors[0].seek(r);
      if (candidate === Infinity) break;
      let next = candidate;
      for (const cursor of cursors.slice(1)) {
        next = await cursor.seek(candidate);
        if (next !== candidate) break;
      }
      if (next !== candidate) {
        r = next;
        if (r === Infinity) break;
        continue;
      }
      r = candidate + 1;
      const hit = await atRank(candidate);
      if (check !== null) {
        const id = await idOf(hit.vertex);
        if (!tokens(id).some((t) => t.startsWith(check))) continue;
      }
      results.push(hit);
    }
    return { results, complete: true };
  }

  // Load the index and the first page of each whole word's list while the rest is being typed.
  function prefetch(words) {
    for (const word of words) wordCursor(word).then((c) => c.seek(0)).catch(() => {});
  }

  return { match, prefetch };
}
