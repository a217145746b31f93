// Legend of the colour encoding and the provenance line (snapshot source, date, model count).

import { formatFull, h, safeColor } from './dom.js';

export function createLegend(root, layer) {
  const items = (layer.legend || []).map((entry) => {
    const dot = h('span', { class: 'dot', 'aria-hidden': 'true' });
    dot.style.background = safeColor(entry.color);
    return h('li', {}, [dot, h('span', { text: entry.label || entry.key })]);
  });
  const toggle = h('button', { type: 'button', class: 'legend-toggle', 'aria-expanded': 'true', 'aria-controls': 'legend-list' }, layer.title || 'Legend');
  const list = h('ul', { id: 'legend-list', class: 'legend-list' }, items);
  toggle.addEventListener('click', () => {
    const open = toggle.getAttribute('aria-expanded') !== 'true';
    toggle.setAttribute('aria-expanded', String(open));
    list.hidden = !open;
  });
  if (window.matchMedia('(max-width: 640px)').matches) toggle.click();
  root.replaceChildren(toggle, list);
}

export function createFooter(root, atlas) {
  const snapshot = atlas.snapshot || {};
  const counts = atlas.counts || {};
  const parts = [
    `${formatFull(counts.models)} models`,
    counts.edges === undefined ? null : `${formatFull(counts.edges)} derivations`,
    snapshot.date ? `snapshot ${snapshot.date}` : null,
  ].filter(Boolean);
  const generator = atlas.generator ? `${atlas.generator.name} ${atlas.generator.version}` : 'atlasgen';
  const source = snapshot.source || snapshot.label || '';
  root.replaceChildren(
    h('span', { class: 'footer-main', text: parts.join(' · ') }),
    h('span', { class: 'footer-source', title: source, text: source ? `source: ${source}` : '' }),
    h('span', { class: 'footer-credit', text: `${generator} · Leaflet` }),
  );
}
