// JSON over fetch with a bounded cache of in-flight and settled requests, and the size of each file read
// (characters of its text), so that a search can keep within its byte budget.

export function createFetcher({ limit = 400 } = {}) {
  const cache = new Map();
  const sizes = new Map();
  let total = 0; // characters of every file fetched so far

  function json(url) {
    const hit = cache.get(url);
    if (hit) {
      cache.delete(url);
      cache.set(url, hit);
      return hit;
    }
    const promise = fetch(url, { credentials: 'same-origin' })
      .then((response) => {
        if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
        return response.text();
      })
      .then((text) => {
        sizes.set(url, text.length);
        total += text.length;
        return JSON.parse(text);
      });
    promise.catch(() => cache.delete(url));
    cache.set(url, promise);
    while (cache.size > limit) {
      const oldest = cache.keys().next().value;
      cache.delete(oldest);
      sizes.delete(oldest);
    }
    return promise;
  }

  return { json, size: (url) => sizes.get(url) || 0, total: () => total };
}
