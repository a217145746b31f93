// The one module that knows the map library (Leaflet). Everything else sees the small view API returned by
// createMap, in world coordinates (x right, y down, 0..256 at zoom 0) and container pixels:
//   events   on(types, fn) / off(types, fn): 'click' ({x, y} in the world), 'move', 'moveend', 'zoomend',
//            'movestart', 'zoomstart'
//   geometry project(x, y) -> {x, y} container px; unproject(px, py) -> {x, y} world; zoom(); bounds(pad)
//   drawing  drawing(name, {zIndex, canvas}) -> a pane with line(), circle(), disc(), label() and clear()
//   view     view() / setView({z, x, y}), focus(x, y), fit(box), sameView(a, b); mark(x, y) / unmark()
//   layers   setBase(id), showBase(visible), setOverlays(ids), bases, overlays; container, the map's element
// Swapping Leaflet for another library means rewriting this file only.

import 'leaflet/dist/leaflet.css';
import * as L from 'leaflet/dist/leaflet-src.esm.js';
import { TRANSPARENT_PNG } from './config.js';
import { safeColor } from './dom.js';
import { OVERZOOM, splitLayers } from './layerspec.js';
import { createBitmap } from './normalise.js';

const toLatLng = (x, y) => L.latLng(-y, x);
const toWorld = (latlng) => ({ x: latlng.lng, y: -latlng.lat });

// Only asks the server for tiles the generator wrote; the rest are a transparent pixel, never a 404.
function tileLayer(layer, worldSize, zIndex) {
  const exists = Object.fromEntries(Object.entries(layer.exists || {}).map(([z, b]) => [z, createBitmap(b)]));
  const Layer = L.TileLayer.extend({
    getTileUrl(coords) {
      const test = exists[String(coords.z)];
      // a world grown past 256 units (maps built on last week's) is worldSize / 256 tiles wide at zoom 0
      if (test && !test(coords.y * 2 ** coords.z * (worldSize / 256) + coords.x)) return TRANSPARENT_PNG;
      return L.TileLayer.prototype.getTileUrl.call(this, coords);
    },
  });
  const minNative = layer.min_zoom || 0;
  return new Layer(layer.url, {
    tileSize: layer.tile_size || 256,
    minZoom: minNative > 0 ? minNative : -2,
    minNativeZoom: minNative,
    maxNativeZoom: layer.max_zoom,
    maxZoom: layer.max_zoom + OVERZOOM,
    bounds: L.latLngBounds(toLatLng(0, worldSize), toLatLng(worldSize, 0)),
    errorTileUrl: TRANSPARENT_PNG,
    noWrap: true,
    keepBuffer: 4,
    zIndex,
  });
}

// Library events under neutral names; a click carries its world position.
function createEvents(map) {
  const wrapped = new Map(); // fn -> Leaflet handler
  const handler = (fn) => {
    if (!wrapped.has(fn)) wrapped.set(fn, (event) => fn(event.latlng ? toWorld(event.latlng) : {}));
    return wrapped.get(fn);
  };
  return {
    on: (types, fn) => map.on(types, handler(fn)),
    off: (types, fn) => wrapped.has(fn) && map.off(types, wrapped.get(fn)),
  };
}

// A pane of vector drawings over the tiles: lines and circles (styles in screen pixels: color, weight,
// opacity, fillColor, fillOpacity, radius, className) and text labels (a DOM element at a world point).
function createDrawing(map, name, { zIndex, canvas = false }) {
  const pane = map.createPane(name);
  if (zIndex !== undefined) pane.style.zIndex = String(zIndex);
  const renderer = canvas ? L.canvas({ pane: name, padding: 0.5 }) : L.svg({ pane: name, padding: 0.5 });
  const group = L.layerGroup().addTo(map);
  const style = (options) => ({ renderer, interactive: false, ...options });
  return {
    pane,
    line([[x0, y0], [x1, y1]], options) {
      group.addLayer(L.polyline([toLatLng(x0, y0), toLatLng(x1, y1)], style(options)));
    },
    circle([x, y], options) {
      group.addLayer(L.circleMarker(toLatLng(x, y), style(options)));
    },
    // A disc of `radius` world units (it grows with the zoom, unlike circle()).
    disc([x, y], radius, options) {
      group.addLayer(L.circle(toLatLng(x, y), style({ ...options, radius })));
    },
    // A label element at a world point; returns a handle to move or remove it.
    label([x, y], element, className = '') {
      const icon = L.divIcon({ className, html: element, iconSize: null });
      const marker = L.marker(toLatLng(x, y), { icon, pane: name, interactive: false, keyboard: false }).addTo(map);
      return { element: marker.getElement(), remove: () => marker.remove() };
    },
    clear: () => group.clearLayers(),
  };
}

// `deepest`: the deepest zoom (the close-up's, atlas.json's data.near.max_zoom), at least OVERZOOM past the
// deepest tiles.
export function createMap(element, atlas, { deepest: wanted = 0 }) {
  const { bases, overlays } = splitLayers(atlas.layers);
  const all = [...bases, ...overlays];
  const size = atlas.world.size || 256;
  const [xmin, ymin, xmax, ymax] = atlas.world.bounds || [0, 0, size, size];
  const deepest = Math.max(...all.map((l) => l.max_zoom || 0));
  const map = L.map(element, {
    crs: L.CRS.Simple,
    minZoom: -2,
    maxZoom: Math.max(deepest + OVERZOOM, wanted),
    zoomSnap: 0.25,
    zoomDelta: 0.5,
    wheelPxPerZoomLevel: 90,
    fadeAnimation: false,
    attributionControl: false,
    zoomControl: false,
    keyboardPanDelta: 120,
  });
  // Zoom buttons everywhere, an embedded map too; controls carry .map-control, so the rest of the page can
  // keep labels and tips off them.
  L.control.zoom({ position: 'bottomright' }).addTo(map).getContainer().classList.add('map-control');
  map.fitBounds(L.latLngBounds(toLatLng(xmin, ymax), toLatLng(xmax, ymin)), { padding: [16, 16] });
  map.setMinZoom(Math.min(0, Math.floor(map.getZoom())));

  // aria-busy while the view moves (a fly lasts most of a second): assistive tech and tests can wait for it.
  map.on('movestart', () => element.setAttribute('aria-busy', 'true'));
  map.on('moveend', () => element.removeAttribute('aria-busy'));

  const tiles = new Map(all.map((layer, i) => [layer.id, tileLayer(layer, size, i < bases.length ? 1 : 2 + i)]));
  let base = null;
  const shownOverlays = new Set();

  function setBase(id) {
    const layer = bases.find((l) => l.id === id) || bases[0];
    if (!layer || layer.id === base) return base;
    if (base) tiles.get(base).remove();
    base = layer.id;
    tiles.get(base).addTo(map);
    element.style.background = safeColor(layer.background, '#0b0e14');
    return base;
  }

  // The base layer's tiles shown or not (the close-up draws the models instead).
  function showBase(visible) {
    if (base) tiles.get(base).setOpacity(visible ? 1 : 0);
  }

  function setOverlays(ids) {
    const wanted = new Set(ids.filter((id) => overlays.some((l) => l.id === id)));
    for (const id of shownOverlays) if (!wanted.has(id)) tiles.get(id).remove();
    for (const id of wanted) if (!shownOverlays.has(id)) tiles.get(id).addTo(map);
    shownOverlays.clear();
    for (const id of wanted) shownOverlays.add(id);
    return [...shownOverlays];
  }

  let marker = null;
  function mark(x, y) {
    if (!marker) {
      marker = L.circleMarker(toLatLng(x, y), {
        radius: 10,
        className: 'atlas-marker',
        interactive: false,
        weight: 2.5,
        fill: true,
        fillOpacity: 0.15,
      }).addTo(map);
    } else {
      marker.setLatLng(toLatLng(x, y));
    }
  }

  function unmark() {
    if (marker) marker.remove();
    marker = null;
  }

  // Bring (x, y) into view, never zooming out; `offset` (screen px) keeps it clear of the details panel.
  function focus(x, y, { animate = true, zoom = deepest - 1, offset = [0, 0] } = {}) {
    const target = Math.max(map.getZoom(), zoom);
    const center = map.unproject(map.project(toLatLng(x, y), target).add(L.point(offset)), target);
    if (animate) map.flyTo(center, target, { duration: 0.8 });
    else map.setView(center, target, { animate: false });
  }

  // Fit world-coordinate bounds [[x0, y0], [x1, y1]] with screen padding [left, top, right, bottom].
  function fit([[x0, y0], [x1, y1]], [left, top, right, bottom] = [40, 40, 40, 40]) {
    map.flyToBounds(L.latLngBounds(toLatLng(x0, y1), toLatLng(x1, y0)), {
      paddingTopLeft: [left, top],
      paddingBottomRight: [right, bottom],
      maxZoom: deepest,
      duration: 0.8,
    });
  }

  function view() {
    const c = map.getCenter();
    return { z: map.getZoom(), x: c.lng, y: -c.lat };
  }

  function setView({ z, x, y }) {
    const zoom = Math.max(map.getMinZoom(), Math.min(map.getMaxZoom(), z));
    map.setView(toLatLng(x, y), zoom, { animate: false });
  }

  // The world box in view, grown by `pad` of its size on each side: [[x0, y0], [x1, y1]].
  function bounds(pad = 0) {
    const b = map.getBounds().pad(pad);
    return [[b.getWest(), -b.getNorth()], [b.getEast(), -b.getSouth()]];
  }

  const sameView = (a, b) => Math.abs(a.z - b.z) < 0.01 && Math.hypot(a.x - b.x, a.y - b.y) * 2 ** a.z < 1;

  return {
    ...createEvents(map),
    container: element,
    project: (x, y) => {
      const p = map.latLngToContainerPoint(toLatLng(x, y));
      return { x: p.x, y: p.y };
    },
    unproject: (px, py) => toWorld(map.containerPointToLatLng(L.point(px, py))),
    zoom: () => map.getZoom(),
    maxZoom: () => map.getMaxZoom(),
    bounds,
    drawing: (name, options = {}) => createDrawing(map, name, options),
    mark,
    unmark,
    focus,
    fit,
    view,
    setView,
    sameView,
    setBase,
    showBase,
    setOverlays,
    bases,
    overlays,
  };
}
