// The layout's regions (atlas.json's layout.regions, from atlasgen/layout/regions.py) on the map: the region of
// models without documented lineage named with its count, above it at every zoom, and each of its task discs
// with its count, on the disc once the disc is big enough on screen to be told apart; and the discs veiled,
// so that documented lineage stands out beside a region that reads as many models, none with a parent.

import { formatFull } from './dom.js';

const DISC_PX = 16; // a disc's radius on screen before its name shows

// Labels in labels.js's shape, most important first: { vertex (a key), text, x, y, zoom, kind }.
export function regionLabels(atlas) {
  const region = atlas.layout?.regions?.undocumented;
  const [x0, y0, x1] = region?.bbox || [];
  if (!region?.nodes || !Number.isFinite(x0) || !Number.isFinite(y0) || !Number.isFinite(x1)) return [];
  const names = legendNames(atlas.layers, region.groups || []);
  const count = (n) => `${formatFull(n)} model${n === 1 ? '' : 's'}`;
  const discs = [...(region.groups || [])].filter((g) => g.count > 0 && Array.isArray(g.centre));
  const top = Math.min(y0, ...discs.map((g) => Number(g.centre[1]) - (Number(g.radius) || 0)).filter(Number.isFinite));
  const out = [{ vertex: 'region', text: `No documented lineage · ${count(region.nodes)}`, x: (x0 + x1) / 2, y: top, zoom: -Infinity, kind: 'region' }];
  discs.sort((a, b) => b.count - a.count || String(a.label).localeCompare(String(b.label)));
  discs.forEach((g, i) => {
    const [x, y] = g.centre.map(Number);
    const radius = Math.max(Number(g.radius) || 0, 0.05);
    if (!Number.isFinite(x) || !Number.isFinite(y)) return;
    const text = `${names.get(g.label) || g.label} · ${formatFull(g.count)}`;
    out.push({ vertex: `disc-${i}`, text, x, y, zoom: Math.ceil(Math.log2(DISC_PX / radius)), kind: 'disc' });
  });
  return out;
}

// The labels of the legend that names the groups (the one with most of their keys: the task layer's, where
// "unknown" reads "No task stated").
function legendNames(layers, groups) {
  let best = new Map();
  let hits = 0;
  for (const layer of layers || []) {
    const names = new Map((layer.legend || []).map((e) => [e.key, e.label || e.key]));
    const n = groups.filter((g) => names.has(g.label)).length;
    if (n > hits) [best, hits] = [names, n];
  }
  return best;
}

const VEIL = 0.5; // opacity of the veil over the undocumented discs, in the background colour

// Veil every task disc of the undocumented region (up to the close-up, which draws each model itself).
export function veilRegions(view, atlas, background) {
  const region = atlas.layout?.regions?.undocumented;
  const drawing = view.drawing('region-veil', { zIndex: 300 });
  for (const g of region?.groups || []) {
    const [x, y] = (g.centre || []).map(Number);
    const radius = Number(g.radius);
    if (!Number.isFinite(x) || !Number.isFinite(y) || !(radius > 0)) continue;
    drawing.disc([x, y], radius + 0.5, { stroke: false, fillColor: background, fillOpacity: VEIL, className: 'region-veil' });
  }
  return { setHidden: (hidden) => (drawing.pane.hidden = hidden) };
}

// What the legend says about the map beyond the colours: what point size and brightness mean, and the veil.
export function legendNotes(atlas) {
  const notes = ['Point size and brightness: downloads'];
  if (atlas.layout?.regions?.undocumented?.nodes) notes.push('Veiled discs: no documented lineage');
  return notes;
}
