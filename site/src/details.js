// Model details by vertex (chunked files) and exact id -> vertex (hash buckets).

import { fnv1a32 } from './normalise.js';

export function createDetails(fetcher, urls, data) {
  const { chunk_size: chunkSize } = data.details;

  async function get(vertex) {
    const chunk = await fetcher.json(urls.detailChunk(Math.floor(vertex / chunkSize)));
    const row = chunk.rows[vertex - chunk.start];
    if (!row) return null;
    const model = { vertex };
    chunk.fields.forEach((field, i) => {
      model[field] = row[i];
    });
    return model;
  }

  async function resolve(id) {
    const bucket = await fetcher.json(urls.idBucket(fnv1a32(id) % data.ids.buckets));
    return Object.hasOwn(bucket, id) ? bucket[id] : undefined;
  }

  return { get, resolve };
}
