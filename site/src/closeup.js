// The close-up, beyond the raster's detail: the models in view drawn as crisp circles in the base layer's
// legend colours (size and brightness by downloads, as in the tiles) and named, from the close-up cells
// (atlasgen/index/near.py: ids, downloads and legend codes of a pick cell's models) and the pick cells'
// positions. The open model's name comes first and keeps clear of its ring.

import { h, safeColor } from './dom.js';
import { decodeVarints, digit, frontDecode } from './normalise.js';
import { placeLabels } from './placement.js';

const RING = 13; // px: the open model's marker ring (radius 10, stroke 2.5) and a little air
const RING_SELECTOR = '.atlas-marker';
const MAX_CELLS = 16;
const FONT_SIZE = 11;
const NEUTRAL = '#8b93a7';

// 0..1 from downloads, on a log scale: 1M downloads and more is 1.
const weight = (downloads) => Math.min(1, Math.log10((downloads ?? 0) + 1) / 6);

export function createCloseup(view, fetcher, urls, picker, { layers, uiSelector }) {
  const dots = view.drawing('closeup-dots', { canvas: true, zIndex: 350 });
  const names = view.drawing('closeup-names', { zIndex: 420 });
  names.pane.classList.add('closeup-names');
  const cells = new Map(); // "cx,cy" -> Promise<[model]>
  let base = null; // the base layer whose colours are drawn
  let selected = null; // the open model's vertex
  let active = false;
  let shown = []; // label handles
  let seq = 0;
  const canvas = document.createElement('canvas').getContext('2d');
  const font = `500 ${FONT_SIZE}px ${getComputedStyle(document.body).getPropertyValue('--font') || 'sans-serif'}`;
  const measure = (text) => {
    canvas.font = font;
    return canvas.measureText(text).width + 2;
  };

  // A cell's models: { x, y, vertex, id, downloads, codes: { layer: legend index or -1 } }.
  function cell(cx, cy) {
    const key = `${cx},${cy}`;
    if (!cells.has(key)) {
      const near = fetcher.json(urls.nearCell(picker.zoom, cx, cy));
      cells.set(key, Promise.all([picker.pointsIn(cx, cy), near]).then(([points, data]) => decode(points, data)));
    }
    return cells.get(key);
  }

  function decode(points, data) {
    const ids = frontDecode(decodeVarints(data.n), data.t);
    const downloads = decodeVarints(data.d);
    return points.map(([x, y, vertex], i) => {
      const codes = {};
      for (const [layer, text] of Object.entries(data.k || {})) codes[layer] = digit(text[i] || '_');
      return { x, y, vertex, id: ids[i], downloads: downloads[i] ? downloads[i] - 1 : null, codes };
    });
  }

  function colour(model) {
    const legend = layers.find((l) => l.id === base)?.legend || [];
    const code = model.codes[base];
    return safeColor(code >= 0 ? legend[code]?.color : null, NEUTRAL);
  }

  async function draw() {
    const mine = ++seq;
    if (!active) return clear();
    const boxes = picker.cellsIn(view.bounds(0.15), MAX_CELLS);
    const models = (await Promise.all(boxes.map(([cx, cy]) => cell(cx, cy)))).flat();
    if (mine !== seq || !active) return;
    clear();
    for (const m of models) {
      const t = weight(m.downloads);
      dots.circle([m.x, m.y], { radius: 2.5 + 3.5 * t, color: '#0b0e14', weight: 1, fillColor: colour(m), fillOpacity: 0.45 + 0.55 * t, className: 'closeup-dot' });
    }
    label(models);
  }

  function label(models) {
    const rect = view.container.getBoundingClientRect();
    const frame = { left: 0, top: 0, right: rect.width, bottom: rect.height };
    const local = (e) => {
      const r = e.getBoundingClientRect();
      return { left: r.left - rect.left, top: r.top - rect.top, right: r.right - rect.left, bottom: r.bottom - rect.top, card: !e.matches(RING_SELECTOR) };
    };
    const obstacles = [...document.querySelectorAll(uiSelector)].map(local).filter((b) => b.right > b.left);
    // a point under a card is out of sight (the open model's ring, in a map pane, is no card)
    const visible = (p) => p.x >= 0 && p.y >= 0 && p.x <= frame.right && p.y <= frame.bottom && !obstacles.some((b) => b.card && p.x >= b.left && p.x <= b.right && p.y >= b.top && p.y <= b.bottom);
    const items = models
      .map((m) => ({ m, p: view.project(m.x, m.y) }))
      .filter(({ p }) => visible(p)) // in view, not under a card
      .sort((a, b) => (b.m.vertex === selected) - (a.m.vertex === selected) || (b.m.downloads ?? -1) - (a.m.downloads ?? -1) || a.m.vertex - b.m.vertex)
      .map(({ m, p }) => ({ key: m, x: p.x, y: p.y, r: m.vertex === selected ? RING : 2.5 + 3.5 * weight(m.downloads), solid: m.vertex === selected, text: m.id.slice(m.id.indexOf('/') + 1) }));
    const placed = placeLabels(items, { frame, obstacles, measure, height: FONT_SIZE + 3 });
    names.pane.dataset.models = String(items.length);
    for (const { key: m, text, left, top } of placed) {
      const p = view.project(m.x, m.y);
      const el = h('span', { class: `closeup-name${m.vertex === selected ? ' selected' : ''}`, text, title: m.id, 'data-vertex': String(m.vertex) });
      el.style.transform = `translate(${Math.round(left - p.x)}px, ${Math.round(top - p.y)}px)`;
      shown.push(names.label([m.x, m.y], el, 'closeup-label'));
    }
  }

  function clear() {
    dots.clear();
    for (const handle of shown) handle.remove();
    shown = [];
    delete names.pane.dataset.models;
  }

  return {
    // Switch on or off (the zoom decides), and redraw for the view.
    update(on) {
      active = on;
      draw();
    },
    setBase(id) {
      base = id;
      if (active) draw();
    },
    select(vertex) {
      selected = vertex;
      if (active) draw();
    },
    // Place the names again (a card opened or closed over the map).
    refresh() {
      if (active) draw();
    },
    isActive: () => active,
  };
}
