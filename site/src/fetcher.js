// JSON over fetch with a bounded cache of in-flight and settled requests.

export function createFetcher({ limit = 400 } = {}) {
  const cache = new Map();

  function json(url) {
    const hit = cache.get(url);
    if (hit) {
      cache.delete(url);
      cache.set(url, hit);
      return hit;
    }
    const promise = fetch(url, { credentials: 'same-origin' }).then((response) => {
      if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
      return response.json();
    });
    promise.catch(() => cache.delete(url));
    cache.set(url, promise);
    while (cache.size > limit) cache.delete(cache.keys().next().value);
    return promise;
  }

  return { json };
}
