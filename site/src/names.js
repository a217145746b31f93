// Ids by vertex (front-coded names blocks) and exact id -> vertex (separator files, then one block).

import { compareIds, decodeVarints, frontDecode } from './normalise.js';

const decoded = new WeakMap();

function stringsOf(file) {
  let strings = decoded.get(file);
  if (!strings) {
    strings = frontDecode(decodeVarints(file.n), file.t);
    decoded.set(file, strings);
  }
  return strings;
}

// Index of the last separator <= id (separators ascending, the first one "").
function lastAtMost(separators, id) {
  let lo = 0;
  let hi = separators.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (compareIds(separators[mid], id) <= 0) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

export function createNames(fetcher, urls) {
  const { block, group, top } = urls.namesLayout;

  async function idOf(vertex) {
    const ids = stringsOf(await fetcher.json(urls.namesBlock(Math.floor(vertex / block))));
    return ids[vertex % block];
  }

  const idsOf = (vertices) => Promise.all(vertices.map(idOf));

  async function resolve(id) {
    const g = lastAtMost(top, id);
    const b = g * group + lastAtMost(stringsOf(await fetcher.json(urls.separators(g))), id);
    const ids = stringsOf(await fetcher.json(urls.namesBlock(b)));
    const i = ids.indexOf(id);
    return i < 0 ? undefined : b * block + i;
  }

  return { idOf, idsOf, resolve };
}
