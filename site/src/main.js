// Wiring: load atlas.json, build the map, search, panel and router, and route every "open model" through the URL.

import 'leaflet/dist/leaflet.css';
import './style.css';
import { ATLAS_URL, createUrls } from './config.js';
import { createDetails } from './details.js';
import { h } from './dom.js';
import { createFetcher } from './fetcher.js';
import { createFooter, createLegend } from './legend.js';
import { createMap } from './map.js';
import { createPanel } from './panel.js';
import { createPicker } from './picker.js';
import { createRouter } from './router.js';
import { createSearch } from './search.js';
import { createSearchBox } from './searchbox.js';

const LINEAGE_HOPS = 12;
const MOBILE = window.matchMedia('(max-width: 640px)');

async function start() {
  const fetcher = createFetcher();
  const atlas = await fetcher.json(ATLAS_URL);
  const urls = createUrls(atlas.data);
  const details = createDetails(fetcher, urls, atlas.data);
  const picker = createPicker(fetcher, urls, atlas.data);
  const layer = atlas.layers[0];
  const relations = new Map((layer.legend || []).map((e) => [e.key, e]));
  document.title = atlas.title || document.title;
  document.querySelector('.brand-title').textContent = atlas.title || 'Model Atlas';

  const known = new Map(); // id -> vertex, from results we already hold
  let how = 'link'; // how the next model was asked for: 'search' | 'pick' | 'link'
  let seq = 0;

  const router = createRouter((id) => (id === null ? close(false) : show(id)));
  const select = (vertex, id, via) => {
    known.set(id, vertex);
    how = via;
    router.go(id);
  };
  const panel = createPanel(document.getElementById('panel'), {
    relations,
    onOpen: (vertex, id) => select(vertex, id, 'link'),
    onClose: () => close(true),
  });
  const view = createMap(document.getElementById('map'), atlas, { onPick: pick });
  createSearchBox(document.getElementById('search'), createSearch(fetcher, urls), {
    onChoose: (result) => select(result.vertex, result.id, 'search'),
  });
  createLegend(document.getElementById('legend'), layer);
  createFooter(document.getElementById('footer'), atlas);

  async function pick(x, y, radius) {
    const hit = await picker.nearest(x, y, radius);
    if (!hit) return;
    const model = await details.get(hit.vertex);
    if (model) select(hit.vertex, model.id, 'pick');
  }

  function panelOffset() {
    if (MOBILE.matches) return [0, Math.round(window.innerHeight * 0.22)];
    return [Math.round(document.getElementById('panel').offsetWidth / 2), 0];
  }

  async function show(id) {
    const mine = ++seq;
    const via = how;
    how = 'link';
    let vertex = known.get(id);
    if (vertex === undefined) vertex = await details.resolve(id);
    if (mine !== seq) return;
    if (vertex === undefined) {
      view.unmark();
      panel.message('This model is not in the atlas.', id);
      return;
    }
    const model = await details.get(vertex);
    if (mine !== seq || !model) return;
    panel.show(model);
    document.title = `${model.id} · ${atlas.title || 'Model Atlas'}`;
    view.mark(model.x, model.y);
    if (via !== 'pick') view.focus(model.x, model.y, { animate: via !== 'load', offset: panelOffset() });
    lineage(model).then((chain) => mine === seq && panel.showLineage(model.vertex, chain));
  }

  // First-parent chain up to the root, fetched hop by hop (multi-hop lineage on demand).
  async function lineage(model) {
    const chain = [model];
    const seen = new Set([model.vertex]);
    let current = model;
    while (current.parents.length && chain.length <= LINEAGE_HOPS) {
      const next = await details.get(current.parents[0][0]);
      if (!next || seen.has(next.vertex)) break;
      seen.add(next.vertex);
      chain.unshift(next);
      current = next;
    }
    return chain;
  }

  function close(updateUrl) {
    seq += 1;
    panel.hide();
    view.unmark();
    document.title = atlas.title || 'Model Atlas';
    if (updateUrl) router.clear();
  }

  document.addEventListener('keydown', (event) => {
    const typing = event.target instanceof HTMLInputElement;
    if (event.key === 'Escape' && panel.isOpen()) close(true);
    else if (event.key === '/' && !typing) {
      event.preventDefault();
      document.getElementById('search-input').focus();
    }
  });

  const initial = router.current();
  if (initial !== null) {
    how = 'load';
    show(initial);
  }
}

start().catch((error) => {
  console.warn('atlas failed to load:', error);
  const box = document.getElementById('fatal');
  box.replaceChildren(h('strong', { text: 'The atlas could not be loaded.' }), h('span', { text: String(error.message || error) }));
  box.hidden = false;
});
