// The whole view in the URL hash: `#m=<id>&z=<zoom>&x=<x>&y=<y>&l=<base layer>&o=<overlays>`.
// Opening or closing a model pushes a history entry; moving the map or switching layers replaces the current
// one, so back/forward restore both the model and the view it was left at. `#m=<id>` alone still opens a model.

const KEYS = ['m', 'z', 'x', 'y', 'l', 'o'];

function number(text) {
  const value = Number(text);
  return text !== undefined && text !== '' && Number.isFinite(value) ? value : null;
}

export function parseHash(hash) {
  const raw = {};
  for (const part of hash.replace(/^#/, '').split('&')) {
    const eq = part.indexOf('=');
    if (eq <= 0) continue;
    try {
      raw[part.slice(0, eq)] = decodeURIComponent(part.slice(eq + 1));
    } catch {
      // a malformed escape: ignore that parameter
    }
  }
  const z = number(raw.z);
  const x = number(raw.x);
  const y = number(raw.y);
  return {
    m: raw.m || null,
    view: z !== null && x !== null && y !== null ? { z, x, y } : null,
    l: raw.l || null,
    o: raw.o ? raw.o.split(',').filter(Boolean) : [],
  };
}

// Enough decimals to place the centre within about a screen pixel at zoom z.
function digits(z) {
  return Math.max(1, Math.min(7, Math.ceil(z * Math.LOG10E * Math.LN2) + 2));
}

export function formatHash({ m = null, view = null, l = null, o = [] }) {
  const parts = {};
  if (m) parts.m = m;
  if (view) {
    parts.z = String(Math.round(view.z * 100) / 100);
    parts.x = view.x.toFixed(digits(view.z));
    parts.y = view.y.toFixed(digits(view.z));
  }
  if (l) parts.l = l;
  if (o.length) parts.o = o.join(',');
  const text = KEYS.filter((k) => k in parts)
    .map((k) => `${k}=${encodeURIComponent(parts[k])}`)
    .join('&');
  return text ? `#${text}` : '';
}

export function createViewState(onPop) {
  const url = (state) => window.location.pathname + window.location.search + formatHash(state);
  let last = window.location.hash;

  // Back/forward, or a hash typed into the address bar.
  window.addEventListener('popstate', () => {
    if (window.location.hash === last) return;
    last = window.location.hash;
    onPop(parseHash(last));
  });

  function write(state, push) {
    const target = url(state);
    if (formatHash(state) === window.location.hash) return;
    if (push) history.pushState(null, '', target);
    else history.replaceState(null, '', target);
    last = window.location.hash;
  }

  return {
    current: () => parseHash(window.location.hash),
    push: (state) => write(state, true),
    replace: (state) => write(state, false),
    link: (state) => new URL(url(state), window.location.href).href,
  };
}
