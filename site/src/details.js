// Model details by vertex: detail chunks decoded with the shared dictionary, ids filled in from the names.

import { createNames } from './names.js';
import { createReader, decodeFixed } from './normalise.js';

const DAY_MS = 86_400_000;

export function createDetails(fetcher, urls, data) {
  const { chunk_size: chunkSize, children_cap: cap, xy_steps: steps, first_day: firstDay } = data.details;
  const world = data.details.world || 256; // the world square, 256 unless the map grew
  const width = urls.vertexWidth;
  const names = createNames(fetcher, urls);
  const decoded = new WeakMap();

  // Every row of a chunk, with lineage as vertices (ids are looked up when a model is shown).
  function rowsOf(chunk, dict) {
    let rows = decoded.get(chunk);
    if (rows) return rows;
    const word = (table, code) => (code ? table[code - 1] ?? null : null);
    const count = (value) => (value ? value - 1 : null);
    const reader = createReader(chunk.n);
    const refs = decodeFixed(chunk.v, width);
    const xy = decodeFixed(chunk.xy, 3);
    let ref = 0;
    let author = 0;
    rows = [];
    for (let i = 0; !reader.done(); i += 1) {
      const flags = reader.next();
      const row = {
        relation: word(dict.relation, flags >> 2),
        virtual: ((flags >> 1) & 1) === 1,
        author: flags & 1 ? chunk.a[author++] : null,
        downloads: count(reader.next()),
        likes: count(reader.next()),
        licence: word(dict.licence, reader.next()),
        task: word(dict.task, reader.next()),
        library: word(dict.library, reader.next()),
        created: null,
        x: (xy[2 * i] * world) / steps,
        y: (xy[2 * i + 1] * world) / steps,
        parents: [],
        children: [],
        children_total: 0,
        children_by_relation: {},
      };
      const day = reader.next();
      if (day) row.created = new Date((firstDay + day - 1) * DAY_MS).toISOString().slice(0, 10);
      const lineage = reader.next();
      const listed = lineage % (cap + 1);
      const parents = Math.floor(lineage / (cap + 1));
      for (let p = 0; p < parents; p += 1) row.parents.push([refs[ref++], word(dict.relation, reader.next())]);
      for (let c = 0; c < listed; c += 1) {
        const rel = word(dict.relation, reader.next());
        row.children.push([refs[ref++], rel, count(reader.next())]);
      }
      const left = listed === cap ? reader.next() : 0;
      row.children_total = listed + left;
      if (left) {
        for (let k = reader.next(); k > 0; k -= 1) {
          const rel = word(dict.relation, reader.next());
          row.children_by_relation[rel] = reader.next();
        }
      } else {
        for (const [, rel] of row.children) row.children_by_relation[rel] = (row.children_by_relation[rel] || 0) + 1;
      }
      rows.push(row);
    }
    decoded.set(chunk, rows);
    return rows;
  }

  async function get(vertex) {
    const chunkNo = Math.floor(vertex / chunkSize);
    const [chunk, dict] = await Promise.all([fetcher.json(urls.detailChunk(chunkNo)), fetcher.json(urls.dictionary())]);
    const row = rowsOf(chunk, dict)[vertex - chunkNo * chunkSize];
    if (!row) return null;
    const [id, parentIds, childIds] = await Promise.all([
      names.idOf(vertex),
      names.idsOf(row.parents.map(([v]) => v)),
      names.idsOf(row.children.map(([v]) => v)),
    ]);
    return {
      ...row,
      vertex,
      id,
      author: row.author ?? (id.includes('/') ? id.slice(0, id.indexOf('/')) : id),
      parents: row.parents.map(([v, rel], i) => [v, parentIds[i], rel]),
      children: row.children.map(([v, rel, dl], i) => [v, childIds[i], rel, dl]),
      children_by_relation: { ...row.children_by_relation },
    };
  }

  return { get, resolve: names.resolve };
}
