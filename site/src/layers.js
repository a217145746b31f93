// Layer switcher and legend: one radio per base layer, one checkbox per overlay, each enabled only at zooms
// where it has tiles, and the legend of what is shown. Native inputs, so the keyboard works as usual.
// The legend sits above the switches: the card is anchored at its bottom, so a longer or shorter legend
// moves only what is above it and the switches stay under the pointer. An overlay coloured as the base
// layer says so in one line instead of repeating its entries; `notes` explain the rest of the map.

import { h, safeColor } from './dom.js';
import { inZoomRange } from './layerspec.js';

function legendList(layer) {
  return (layer.legend || []).map((entry) => {
    const dot = h('span', { class: 'dot', 'aria-hidden': 'true' });
    dot.style.background = safeColor(entry.color);
    return h('li', {}, [dot, h('span', { text: entry.label || entry.key })]);
  });
}

// The same entries (keys and colours) as the base layer's legend: said in one line, not repeated.
function sameColours(layer, base) {
  const colours = new Map((base?.legend || []).map((e) => [e.key, safeColor(e.color)]));
  return (layer.legend || []).every((e) => colours.get(e.key) === safeColor(e.color));
}

export function createLayerSwitcher(root, { bases, overlays }, { onBase, onOverlays, collapsed = false, notes = [] }) {
  let base = bases[0]?.id ?? null;
  let shown = new Set();
  const inputs = new Map();

  const option = (layer, type) => {
    const input = h('input', { type, name: type === 'radio' ? 'base-layer' : null, value: layer.id, class: 'layer-input' });
    input.addEventListener('change', () => {
      if (type === 'radio' && input.checked) {
        base = layer.id;
        onBase(base);
      } else if (type === 'checkbox') {
        if (input.checked) shown.add(layer.id);
        else shown.delete(layer.id);
        onOverlays([...shown]);
      }
      renderLegend();
    });
    const hint = h('span', { class: 'layer-hint' });
    inputs.set(layer.id, { input, hint, layer });
    return h('label', { class: 'layer-option' }, [input, h('span', { class: 'layer-title', text: layer.title || layer.id }), hint]);
  };

  const baseSet = h('fieldset', { class: 'layer-set' }, [h('legend', { class: 'layer-set-title', text: 'Colour points by' }), ...bases.map((l) => option(l, 'radio'))]);
  const overlaySet = overlays.length ? h('fieldset', { class: 'layer-set' }, [h('legend', { class: 'layer-set-title', text: 'Overlays' }), ...overlays.map((l) => option(l, 'checkbox'))]) : null;
  const list = h('ul', { id: 'legend-list', class: 'legend-list', 'aria-label': 'Legend' });
  const notesList = notes.length ? h('ul', { class: 'legend-notes' }, notes.map((text) => h('li', { text }))) : null;
  const key = h('div', { class: 'legend-key' }, [list, notesList]);
  const body = h('div', { id: 'legend-body', class: 'legend-body' }, [key, baseSet, overlaySet]);
  const toggle = h('button', { type: 'button', class: 'legend-toggle', 'aria-expanded': 'true', 'aria-controls': 'legend-body' }, 'Layers & legend');
  toggle.addEventListener('click', () => {
    const open = toggle.getAttribute('aria-expanded') !== 'true';
    toggle.setAttribute('aria-expanded', String(open));
    body.hidden = !open;
  });
  root.replaceChildren(toggle, body);
  if (collapsed) toggle.click();

  function renderLegend() {
    const items = [];
    const current = bases.find((l) => l.id === base);
    if (current) items.push(...legendList(current));
    for (const layer of overlays) {
      if (!shown.has(layer.id) || !layer.legend?.length) continue;
      const title = layer.title || layer.id;
      if (sameColours(layer, current)) items.push(h('li', { class: 'legend-heading', text: `${title}: coloured as above` }));
      else items.push(h('li', { class: 'legend-heading', text: title }), ...legendList(layer));
    }
    list.replaceChildren(...items);
    list.classList.toggle('two-columns', items.length > 9);
  }

  // Set the selection without calling back (from the URL or history).
  function set(baseId, overlayIds) {
    base = bases.some((l) => l.id === baseId) ? baseId : base;
    shown = new Set(overlayIds.filter((id) => overlays.some((l) => l.id === id)));
    for (const [id, { input }] of inputs) input.checked = id === base || shown.has(id);
    renderLegend();
  }

  function setZoom(zoom) {
    for (const { input, hint, layer } of inputs.values()) {
      const ok = inZoomRange(layer, zoom);
      input.disabled = !ok;
      hint.textContent = ok ? '' : zoom < (layer.min_zoom || 0) ? 'zoom in' : 'zoom out';
    }
  }

  set(base, []);
  return { set, setZoom };
}
