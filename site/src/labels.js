// Map labels (data/labels.json, fetched after the first view): the biggest families and most downloaded
// models for the current zoom, as text in their own pane that never takes a click. The generator placed
// them without overlaps by an estimate; here the real boxes are checked against each other and the open UI.

import { h } from './dom.js';

// What no label may cover: the page's cards and controls, the open model's ring and the regions' names.
export const UI =
  '.chrome:not([hidden]), #overlay-note:not([hidden]), .map-control, #share-popup:not([hidden]), ' +
  '#search-results:not([hidden]), .atlas-marker, .region-labels .atlas-label:not(.clash) .atlas-label-text';
const PAD = 3; // px between a label and anything else

function overlaps(a, b) {
  return a.left < b.right + PAD && b.left < a.right + PAD && a.top < b.bottom + PAD && b.top < a.bottom + PAD;
}

// `first`: labels placed before the file's; `pane`: the map pane they go in (also a class on it).
export function createLabels(view, labelsUrl, fetcher, { first = [], pane = 'atlas-labels' } = {}) {
  const drawing = view.drawing(pane);
  drawing.pane.classList.add('atlas-labels', pane);
  let labels = first; // [{ vertex, text, x, y, zoom, kind }] in priority order
  const shown = new Map(); // vertex -> label handle

  function wanted() {
    const z = Math.floor(view.zoom() + 1e-6);
    const [[x0, y0], [x1, y1]] = view.bounds(0.25);
    return labels.filter((l) => l.zoom <= z && l.x >= x0 && l.x <= x1 && l.y >= y0 && l.y <= y1);
  }

  function marker(label) {
    const kind = { f: 'family', m: 'model' }[label.kind] || label.kind;
    const text = h('span', { class: `atlas-label-text ${kind}`, text: label.text });
    return drawing.label([label.x, label.y], text, 'atlas-label');
  }

  // Hide any label whose box meets a more important one's, or the page's controls and cards.
  function declutter() {
    const own = (e) => drawing.pane.contains(e);
    const ui = [...document.querySelectorAll(UI)].filter((e) => !own(e)).map((e) => e.getBoundingClientRect()).filter((r) => r.width > 0);
    const frame = view.container.getBoundingClientRect();
    const inside = (b) => b.left >= frame.left && b.right <= frame.right && b.top >= frame.top && b.bottom <= frame.bottom;
    const kept = [];
    for (const label of labels) {
      const m = shown.get(label.vertex);
      if (!m) continue;
      const el = m.element;
      el.classList.remove('clash');
      const box = el.firstChild.getBoundingClientRect();
      if (!inside(box) || ui.some((r) => overlaps(box, r)) || kept.some((r) => overlaps(box, r))) el.classList.add('clash');
      else kept.push(box);
    }
  }

  function update() {
    const next = new Set(wanted().map((l) => l.vertex));
    for (const [vertex, m] of shown) {
      if (!next.has(vertex)) {
        m.remove();
        shown.delete(vertex);
      }
    }
    for (const label of labels) {
      if (next.has(label.vertex) && !shown.has(label.vertex)) shown.set(label.vertex, marker(label));
    }
    declutter();
  }

  view.on('zoomend moveend', update);
  update();
  window.addEventListener('resize', () => requestAnimationFrame(declutter));

  if (labelsUrl) {
    fetcher
      .json(labelsUrl)
      .then((data) => {
        const f = Object.fromEntries((data.fields || []).map((name, i) => [name, i]));
        labels = first.concat(
          (data.labels || []).map((row) => ({
            vertex: Number(row[f.vertex]),
            text: String(row[f.text] ?? ''),
            x: Number(row[f.x]),
            y: Number(row[f.y]),
            zoom: Number(row[f.min_zoom]),
            kind: row[f.kind],
          })),
        ).filter((l) => l.text && Number.isFinite(l.x) && Number.isFinite(l.y));
        update();
      })
      .catch((error) => console.warn('labels unavailable:', error));
  }

  // Re-check against the UI after a card opens or closes (the map may not move); hidden in the close-up,
  // which names every model itself.
  return {
    refresh: () => requestAnimationFrame(declutter),
    setHidden: (hidden) => {
      drawing.pane.hidden = hidden;
    },
  };
}
