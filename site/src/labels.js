// Map labels (data/labels.json, fetched after the first view): the biggest families and most downloaded
// models for the current zoom, as text in their own pane that never takes a click. The generator placed
// them without overlaps by an estimate; here the real boxes are checked against each other and the open UI.

import * as L from 'leaflet/dist/leaflet-src.esm.js';
import { h } from './dom.js';
import { toLatLng } from './map.js';

const UI =
  '.chrome:not([hidden]), #overlay-note:not([hidden]), .leaflet-control, #share-popup:not([hidden]), ' +
  '#search-results:not([hidden])';
const PAD = 3; // px between a label and anything else

function overlaps(a, b) {
  return a.left < b.right + PAD && b.left < a.right + PAD && a.top < b.bottom + PAD && b.top < a.bottom + PAD;
}

export function createLabels(map, labelsUrl, fetcher) {
  const pane = map.createPane('atlas-labels');
  pane.classList.add('atlas-labels');
  let labels = []; // [{ vertex, text, latlng, zoom, kind }] in priority order
  const shown = new Map(); // vertex -> marker

  function wanted() {
    const z = Math.floor(map.getZoom() + 1e-6);
    const bounds = map.getBounds().pad(0.25);
    return labels.filter((l) => l.zoom <= z && bounds.contains(l.latlng));
  }

  function marker(label) {
    const text = h('span', { class: `atlas-label-text ${label.kind === 'f' ? 'family' : 'model'}`, text: label.text });
    const icon = L.divIcon({ className: 'atlas-label', html: text, iconSize: null });
    return L.marker(label.latlng, { icon, pane: 'atlas-labels', interactive: false, keyboard: false });
  }

  // Hide any label whose box meets a more important one's, or the page's controls and cards.
  function declutter() {
    const ui = [...document.querySelectorAll(UI)].map((e) => e.getBoundingClientRect()).filter((r) => r.width > 0);
    const frame = map.getContainer().getBoundingClientRect();
    const inside = (b) => b.left >= frame.left && b.right <= frame.right && b.top >= frame.top && b.bottom <= frame.bottom;
    const kept = [];
    for (const label of labels) {
      const m = shown.get(label.vertex);
      if (!m) continue;
      const el = m.getElement();
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
      if (next.has(label.vertex) && !shown.has(label.vertex)) shown.set(label.vertex, marker(label).addTo(map));
    }
    declutter();
  }

  map.on('zoomend moveend', update);
  window.addEventListener('resize', () => requestAnimationFrame(declutter));

  if (labelsUrl) {
    fetcher
      .json(labelsUrl)
      .then((data) => {
        const f = Object.fromEntries((data.fields || []).map((name, i) => [name, i]));
        labels = (data.labels || [])
          .map((row) => ({
            vertex: Number(row[f.vertex]),
            text: String(row[f.text] ?? ''),
            latlng: toLatLng(Number(row[f.x]), Number(row[f.y])),
            zoom: Number(row[f.min_zoom]),
            kind: row[f.kind],
          }))
          .filter((l) => l.text && Number.isFinite(l.latlng.lat) && Number.isFinite(l.latlng.lng));
        update();
      })
      .catch((error) => console.warn('labels unavailable:', error));
  }

  // Re-check against the UI after a card opens or closes (the map may not move).
  return { refresh: () => requestAnimationFrame(declutter) };
}
