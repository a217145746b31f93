// Hover picking for mice and pens: the nearest model within a few screen pixels, by the same pick cells as a
// click, shown as a small tooltip. One lookup per animation frame; cells and details come from the fetcher's
// cache, so moving inside a cell already seen asks the server for nothing. Touch input is ignored.

import { h } from './dom.js';

const HOVER_PIXELS = 8;

export function createHover(view, picker, details, { relationOf }) {
  const container = view.container;
  const tip = h('div', { class: 'hover-tip', role: 'tooltip', 'aria-hidden': 'true' });
  const idLine = h('span', { class: 'hover-id' });
  const relLine = h('span', { class: 'hover-rel' });
  const dot = h('span', { class: 'hover-swatch', 'aria-hidden': 'true' });
  tip.append(idLine, h('span', { class: 'hover-meta' }, [dot, relLine]));
  tip.hidden = true;
  container.append(tip);

  let pending = null; // the latest pointer position, waiting for the next frame
  let frame = 0;
  let seq = 0;
  let current = null; // { x, y } of the model under the tip

  function hide() {
    seq += 1;
    pending = null;
    current = null;
    tip.hidden = true;
  }

  function place() {
    if (!current) return;
    const p = view.project(current.x, current.y);
    tip.style.transform = `translate(${Math.round(p.x)}px, ${Math.round(p.y)}px)`;
  }

  async function look(point) {
    const mine = ++seq;
    const at = view.unproject(point.x, point.y);
    const radius = HOVER_PIXELS / 2 ** view.zoom();
    let hit = null;
    try {
      hit = await picker.nearest(at.x, at.y, radius);
    } catch (error) {
      console.warn('hover pick failed:', error);
    }
    if (mine !== seq) return;
    if (!hit) {
      current = null;
      tip.hidden = true;
      return;
    }
    const model = await details.get(hit.vertex).catch(() => null);
    if (mine !== seq || !model) return;
    const relation = relationOf(model.relation);
    idLine.textContent = model.id;
    relLine.textContent = relation.label;
    dot.style.background = relation.color;
    current = { x: hit.x, y: hit.y };
    tip.hidden = false;
    place();
  }

  container.addEventListener('pointermove', (event) => {
    if (event.pointerType === 'touch' || event.buttons) return;
    const rect = container.getBoundingClientRect();
    pending = { x: event.clientX - rect.left, y: event.clientY - rect.top };
    if (event.target instanceof Element && event.target.closest('.map-control')) {
      hide(); // over the zoom buttons
      return;
    }
    if (!frame) {
      frame = requestAnimationFrame(() => {
        frame = 0;
        if (pending) look(pending);
      });
    }
  });
  container.addEventListener('pointerleave', hide);
  container.addEventListener('pointerdown', hide);
  view.on('movestart zoomstart', hide);

  return { hide };
}
