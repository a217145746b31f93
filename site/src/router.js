// Deep links: `#m=<url-encoded id>`. Opening a model pushes a history entry; back/forward reopen.

const PREFIX = '#m=';

function idFromHash(hash) {
  if (!hash.startsWith(PREFIX)) return null;
  try {
    return decodeURIComponent(hash.slice(PREFIX.length));
  } catch {
    return null;
  }
}

export function createRouter(onChange) {
  const current = () => idFromHash(window.location.hash);
  window.addEventListener('hashchange', () => onChange(current()));

  function go(id) {
    const hash = PREFIX + encodeURIComponent(id);
    if (window.location.hash === hash) onChange(id);
    else window.location.hash = hash;
  }

  function clear() {
    if (window.location.hash) history.pushState(null, '', window.location.pathname + window.location.search);
  }

  return { go, clear, current };
}
