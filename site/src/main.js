// Wiring: load atlas.json, build the map, search, panel, layers and provenance, and keep the open model and
// the view in the URL (viewstate.js), so that links, reloads and back/forward all land on the same view.

import './style.css';
import { ATLAS_URL, createUrls } from './config.js';
import { createCloseup } from './closeup.js';
import { createDetails } from './details.js';
import { h } from './dom.js';
import { createFetcher } from './fetcher.js';
import { createHover } from './hover.js';
import { createLabels, UI } from './labels.js';
import { createLayerSwitcher } from './layers.js';
import { closeupFrom, relationLegend } from './layerspec.js';
import { createLicenceChanges } from './licences.js';
import { ancestry, descendants } from './lineage.js';
import { createMap } from './map.js';
import { createOverlay } from './overlay.js';
import { createPanel } from './panel.js';
import { createPicker } from './picker.js';
import { createProvenance } from './provenance.js';
import { legendNotes, regionLabels, veilRegions } from './regions.js';
import { createSearch } from './search.js';
import { createSearchBox } from './searchbox.js';
import { createShare } from './share.js';
import { createViewState } from './viewstate.js';

const MOBILE = window.matchMedia('(max-width: 640px)');
const EMBED = new URLSearchParams(window.location.search).get('embed') === '1';
const PICK_PIXELS = 8; // a click picks the nearest model within this many screen pixels
const $ = (id) => document.getElementById(id);

async function start() {
  const fetcher = createFetcher();
  const atlas = await fetcher.json(ATLAS_URL);
  const urls = createUrls(atlas.data);
  const details = createDetails(fetcher, urls, atlas.data);
  const picker = createPicker(fetcher, urls, atlas.data);
  const relations = new Map(relationLegend(atlas).map((e) => [e.key, e]));
  const relationOf = (key) => relations.get(key) || { label: key || 'unknown', color: '#8b93a7' };
  const title = atlas.title || 'Model Atlas';
  document.title = title;
  document.querySelector('.brand-title').textContent = title;
  if (EMBED) document.body.classList.add('embed');

  const known = new Map(); // id -> vertex, from results we already hold
  const url = createViewState(restore);
  const initial = url.current();
  // The open model's id. Set from the URL before the map first moves: every move writes the URL from it.
  let shown = initial.m;
  let seq = 0;
  let overlayWanted = true;

  const view = createMap($('map'), atlas, { deepest: urls.nearCell ? atlas.data.near.max_zoom || 0 : 0 });
  if (!EMBED) view.on('click', ({ x, y }) => pick(x, y, PICK_PIXELS / 2 ** view.zoom()));
  view.on('moveend', onMove);
  const state = () => ({ m: shown, view: view.view(), l: base, o: overlays });
  let base = view.setBase(initial.l);
  let overlays = view.setOverlays(initial.o);
  if (initial.view) view.setView(initial.view);
  // The regions' names first (the model labels keep off them); they stay in the close-up, the others don't.
  const regionNames = createLabels(view, null, fetcher, { first: regionLabels(atlas), pane: 'region-labels' });
  const labels = createLabels(view, urls.labels, fetcher);
  const veil = veilRegions(view, atlas, '#0b0e14');
  if (!EMBED) createHover(view, picker, details, { relationOf });
  const closeup = urls.nearCell ? createCloseup(view, fetcher, urls, picker, { layers: view.bases, uiSelector: UI }) : null;
  // Past the raster's detail the close-up draws and names the models, in place of the tiles and map labels.
  function updateCloseup() {
    if (!closeup) return;
    const on = view.zoom() >= closeupFrom(view.bases.find((l) => l.id === base)) - 1e-6;
    view.showBase(!on);
    labels.setHidden(on);
    veil.setHidden(on);
    closeup.update(on);
  }
  closeup?.setBase(base);
  updateCloseup();
  view.on('moveend', updateCloseup);

  const panel = EMBED
    ? null
    : createPanel($('panel'), {
        relations,
        onOpen: (vertex, id) => select(vertex, id),
        onClose: () => close(true),
        onOverlay: (on) => setOverlay(on),
      });
  const overlay = createOverlay(view, $('overlay-note'), {
    relationOf,
    onHide: () => setOverlay(false),
    onFit: (bounds) => view.fit(bounds, fitPadding()),
  });
  let switcher = null;
  let share = null;
  let searchBox = null;
  let origin = null; // what had focus when the panel opened, to give it back on Escape
  if (!EMBED) {
    searchBox = createSearchBox($('search'), createSearch(fetcher, urls), { onChoose: (result) => select(result.vertex, result.id) });
    // The search results drop down over the map: labels under them step aside while they are open.
    const results = document.getElementById('search-results');
    new MutationObserver(() => {
      regionNames.refresh();
      labels.refresh();
    }).observe(results, { attributeFilter: ['hidden'] });
    // Cards that come and go over the map (the lineage note, the details panel): the names make way.
    const cards = new MutationObserver(() => {
      regionNames.refresh();
      labels.refresh();
      closeup?.refresh();
    });
    for (const card of [$('overlay-note'), $('panel')]) cards.observe(card, { attributeFilter: ['hidden'] });
    switcher = createLayerSwitcher($('legend'), view, {
      collapsed: MOBILE.matches,
      notes: legendNotes(atlas),
      onBase: (id) => {
        base = view.setBase(id);
        closeup?.setBase(base);
        updateCloseup();
        url.replace(state());
      },
      onOverlays: (ids) => {
        overlays = view.setOverlays(ids);
        url.replace(state());
      },
    });
    switcher.set(base, overlays);
    switcher.setZoom(view.view().z);
    view.on('zoomend', () => switcher.setZoom(view.view().z));
    const licences = createLicenceChanges(urls.licences, fetcher);
    createProvenance($('footer'), atlas, { relationOf, links: licences ? [licences.button] : [] });
    share = createShare($('share'), $('share-popup'), { link: () => url.link(state()) });
  } else {
    const credit = $('embed-credit');
    const full = () => window.location.pathname + window.location.hash;
    credit.setAttribute('href', full());
    view.on('moveend', () => credit.setAttribute('href', full()));
    credit.hidden = false;
  }

  // A move within a pixel of the URL's view (a restored view settling) keeps the URL's numbers, so an entry
  // read back from history is written back unchanged.
  function onMove() {
    const written = url.current().view;
    const now = view.view();
    url.replace({ ...state(), view: written && view.sameView(written, now) ? written : now });
  }

  // Where focus goes back to when the panel closes: the control the model was opened from (the search box,
  // a link in the licence dialog...), or the map when it was opened from the map or by a link.
  function rememberOrigin() {
    const active = document.activeElement;
    if (active && active !== document.body && !$('panel').contains(active)) origin = active;
  }

  function giveFocusBack() {
    const back = origin && origin.isConnected && origin.getClientRects().length ? origin : view.container;
    origin = null;
    back.focus({ preventScroll: true });
  }

  // Open a model from the page (search, pick, a link in the panel): a new history entry.
  function select(vertex, id, { focus = true } = {}) {
    known.set(id, vertex);
    rememberOrigin();
    if (id === shown) {
      open(id, { focus, animate: true });
      return;
    }
    shown = id;
    url.push(state());
    open(id, { focus, animate: true });
  }

  async function pick(x, y, radius) {
    const hit = await picker.nearest(x, y, radius);
    if (!hit) return;
    const model = await details.get(hit.vertex);
    if (model) select(hit.vertex, model.id, { focus: false });
  }

  function panelOffset() {
    if (EMBED) return [0, 0];
    if (MOBILE.matches) return [0, Math.round(window.innerHeight * 0.22)];
    return [Math.round($('panel').offsetWidth / 2), 0];
  }

  function fitPadding() {
    if (EMBED) return [30, 30, 30, 30];
    if (MOBILE.matches) return [24, 90, 24, Math.round(window.innerHeight * 0.6)];
    return [40, 40, $('panel').offsetWidth + 40, 60];
  }

  async function open(id, { focus, animate }) {
    const mine = ++seq;
    shown = id;
    overlay.clear();
    let vertex = known.get(id);
    if (vertex === undefined) vertex = await details.resolve(id);
    if (mine !== seq) return;
    if (vertex === undefined) {
      view.unmark();
      panel?.message('This model is not in the atlas.', id);
      return;
    }
    const model = await details.get(vertex);
    if (mine !== seq || !model) return;
    panel?.show(model);
    panel?.setOverlay(overlayWanted);
    searchBox?.keep(model.id); // the box names the open model, or nothing
    regionNames.refresh();
    labels.refresh();
    document.title = `${model.id} · ${title}`;
    view.mark(model.x, model.y);
    closeup?.select(model.vertex);
    if (focus) view.focus(model.x, model.y, { animate, offset: panelOffset() });
    const [up, down] = await Promise.all([ancestry(details, model), descendants(details, model)]);
    if (mine !== seq) return;
    panel?.showAncestry(model.vertex, up);
    lineage = { model, up, down };
    if (overlayWanted) overlay.draw(model, up.tree, down);
  }

  let lineage = null;
  function setOverlay(on) {
    overlayWanted = on;
    panel?.setOverlay(on);
    if (on && lineage && lineage.model.id === shown) overlay.draw(lineage.model, lineage.up.tree, lineage.down);
    else if (!on) overlay.clear();
  }

  function close(updateUrl) {
    seq += 1;
    shown = null;
    lineage = null;
    panel?.hide();
    overlay.clear();
    regionNames.refresh();
    labels.refresh();
    view.unmark();
    closeup?.select(null);
    searchBox?.keep(null);
    document.title = title;
    if (updateUrl) {
      url.push(state());
      giveFocusBack();
    }
  }

  // Back/forward or an edited hash: reopen that entry's model, layers and view. The entry's model is taken
  // first, so that the moves below write this entry's model into it, not the one being left.
  function restore(next) {
    const was = shown;
    const reopen = next.m !== null && (next.m !== was || !lineage);
    shown = next.m;
    if (next.l && next.l !== base) {
      base = view.setBase(next.l);
      closeup?.setBase(base);
    }
    overlays = view.setOverlays(next.o);
    switcher?.set(base, overlays);
    if (next.view && !view.sameView(next.view, view.view())) view.setView(next.view);
    if (next.m === null) {
      if (was !== null) close(false);
    } else if (reopen) {
      open(next.m, { focus: !next.view, animate: false });
    }
  }

  document.addEventListener('keydown', (event) => {
    const typing = event.target instanceof HTMLInputElement;
    if (event.defaultPrevented || document.querySelector('dialog[open]')) return;
    if (event.key === 'Escape') {
      if (share?.hide()) return;
      if (panel?.isOpen()) close(true);
      else if (overlay.isShown()) setOverlay(false);
    } else if (event.key === '/' && !typing && !EMBED) {
      event.preventDefault();
      $('search-input').focus();
    }
  });

  if (initial.m !== null) open(initial.m, { focus: !initial.view, animate: false });
}

start().catch((error) => {
  console.warn('atlas failed to load:', error);
  const box = $('fatal');
  box.replaceChildren(h('strong', { text: 'The atlas could not be loaded.' }), h('span', { text: String(error.message || error) }));
  box.hidden = false;
});
