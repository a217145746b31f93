// The footer line (models, derivations, snapshot date) and the provenance dialog it opens: where the snapshot
// came from, what was counted and repaired, and which generator drew the map.

import { formatFull, h, safeColor } from './dom.js';

const share = (part, whole) => (whole ? `${((100 * part) / whole).toFixed(1)}%` : '—');
const humanise = (key) => String(key).replace(/[_-]+/g, ' ');

export function createProvenance(footer, atlas, { relationOf, links = [] }) {
  const snapshot = atlas.snapshot || {};
  const counts = atlas.counts || {};
  const generator = atlas.generator ? `${atlas.generator.name} ${atlas.generator.version}` : 'atlasgen';
  const source = snapshot.label || snapshot.source || '';
  const previous = atlas.previous && typeof atlas.previous === 'object' ? atlas.previous : null;
  const since = previous ? previous.date || previous.label || 'the previous atlas' : null;
  // A focus atlas (`build --focus`) charts only some families: say which, and of how many models.
  const focus = atlas.focus && typeof atlas.focus === 'object' && Array.isArray(atlas.focus.specs) ? atlas.focus : null;
  const focusText = focus ? `${focus.specs.map(String).join(', ')} — ${formatFull(focus.models)} of ${formatFull(focus.of)} models` : null;

  const row = (label, value, cls) => [h('dt', { text: label }), h('dd', { class: cls, text: value ?? '—' })];
  const byRelation = Object.entries(counts.edges_by_relation || {})
    .sort((a, b) => b[1] - a[1])
    .map(([rel, n]) => {
      const dot = h('span', { class: 'dot', 'aria-hidden': 'true' });
      dot.style.background = safeColor(relationOf(rel).color);
      return h('li', {}, [dot, h('span', { class: 'rel', text: relationOf(rel).label }), h('span', { class: 'n', text: formatFull(n) })]);
    });
  const listOf = (entries, empty) =>
    entries.length ? h('ul', { class: 'prov-list' }, entries.map(([k, n]) => h('li', {}, [h('span', { class: 'rel', text: humanise(k) }), h('span', { class: 'n', text: formatFull(n) })]))) : h('p', { class: 'note', text: empty });

  const title = h('h2', { id: 'about-title', text: 'About this map' });
  const close = h('button', { type: 'button', class: 'icon-button', 'aria-label': 'Close', title: 'Close (Esc)' }, '×');
  const dialog = h('dialog', { id: 'about', class: 'about', 'aria-labelledby': 'about-title' }, [
    h('div', { class: 'panel-head' }, [title, close]),
    h('p', { class: 'note', text: 'Every model is a point, placed near its relatives and coloured by how it derives from its parent. Lineage is what model cards declare (base_model); licences are as declared on the Hub.' }),
    h('h3', { text: 'Snapshot' }),
    h('dl', { class: 'facts' }, [
      ...row('Source', source),
      ...row('Date', snapshot.date),
      ...row('Format', snapshot.format),
      ...row('Generator', generator),
      ...(focus ? row('Focus', focusText) : []),
    ]),
    h('h3', { text: 'Counts' }),
    h('dl', { class: 'facts' }, [
      ...row('Models', formatFull(counts.models)),
      ...row('Derivation edges', formatFull(counts.edges)),
      ...row('Virtual parents', formatFull(counts.virtual)),
      ...row('Without a documented parent', counts.without_lineage === undefined ? null : `${formatFull(counts.without_lineage)} (${share(counts.without_lineage, counts.models)})`),
      ...(previous ? row(`New since ${since}`, formatFull(previous.new_models)) : []),
    ]),
    h('h3', { text: 'Edges by relation' }),
    byRelation.length ? h('ul', { class: 'prov-list' }, byRelation) : h('p', { class: 'note', text: 'None.' }),
    h('h3', { text: 'Repairs to the snapshot' }),
    listOf(Object.entries(counts.repairs || {}), 'None were needed.'),
    Object.keys(counts.dropped || {}).length ? h('h3', { text: 'Dropped' }) : null,
    Object.keys(counts.dropped || {}).length ? listOf(Object.entries(counts.dropped), '') : null,
  ]);
  close.addEventListener('click', () => dialog.close());
  dialog.addEventListener('click', (event) => event.target === dialog && dialog.close()); // the backdrop
  document.body.append(dialog);

  const parts = [
    `${formatFull(counts.models)} models`,
    counts.edges === undefined ? null : `${formatFull(counts.edges)} derivations`,
    previous ? `${formatFull(previous.new_models)} new` : null,
    snapshot.date ? `snapshot ${snapshot.date}` : null,
    focus ? `focus: ${focus.specs.map(String).join(', ')}` : null,
  ].filter(Boolean);
  const about = h('button', { type: 'button', class: 'footer-about', 'aria-haspopup': 'dialog', onclick: () => dialog.showModal() }, 'About & provenance');
  footer.replaceChildren(
    h('span', { class: 'footer-main', text: parts.join(' · ') }),
    h('span', { class: 'footer-source', title: source, text: source ? `source: ${source}` : '' }),
    about,
    ...(typeof atlas.trends === 'string' && /^[\w.-]+\.html$/.test(atlas.trends) ? [h('a', { class: 'footer-about', href: atlas.trends, text: 'Trends' })] : []),
    ...links, // more footer links (the licence changes)
    h('span', { class: 'footer-credit', text: `${generator} · Leaflet` }),
  );
  return { open: () => dialog.showModal(), isOpen: () => dialog.open };
}
