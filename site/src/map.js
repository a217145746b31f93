// The Leaflet map: CRS.Simple world pixels at zoom 0, raster tiles that exist, a marker for the open model.

import * as L from 'leaflet/dist/leaflet-src.esm.js';
import { TRANSPARENT_PNG } from './config.js';
import { createBitmap } from './normalise.js';

const OVERZOOM = 2;
const PICK_PIXELS = 8;

const toLatLng = (x, y) => L.latLng(-y, x);

// Only asks the server for tiles the generator wrote; the rest are a transparent pixel, never a 404.
function tileLayer(layer, worldSize) {
  const exists = Object.fromEntries(Object.entries(layer.exists || {}).map(([z, b]) => [z, createBitmap(b)]));
  const Layer = L.TileLayer.extend({
    getTileUrl(coords) {
      const test = exists[String(coords.z)];
      if (test && !test(coords.y * 2 ** coords.z + coords.x)) return TRANSPARENT_PNG;
      return L.TileLayer.prototype.getTileUrl.call(this, coords);
    },
  });
  return new Layer(layer.url, {
    tileSize: layer.tile_size || 256,
    minZoom: -2,
    minNativeZoom: layer.min_zoom || 0,
    maxNativeZoom: layer.max_zoom,
    maxZoom: layer.max_zoom + OVERZOOM,
    bounds: L.latLngBounds(toLatLng(0, worldSize), toLatLng(worldSize, 0)),
    errorTileUrl: TRANSPARENT_PNG,
    noWrap: true,
    keepBuffer: 4,
  });
}

export function createMap(element, atlas, { onPick }) {
  const layer = atlas.layers[0];
  const size = atlas.world.size || 256;
  const [xmin, ymin, xmax, ymax] = atlas.world.bounds || [0, 0, size, size];
  const bounds = L.latLngBounds(toLatLng(xmin, ymax), toLatLng(xmax, ymin));
  const map = L.map(element, {
    crs: L.CRS.Simple,
    minZoom: -2,
    maxZoom: layer.max_zoom + OVERZOOM,
    zoomSnap: 0.25,
    zoomDelta: 0.5,
    wheelPxPerZoomLevel: 90,
    fadeAnimation: false,
    attributionControl: false,
    zoomControl: false,
    keyboardPanDelta: 120,
  });
  L.control.zoom({ position: 'bottomright' }).addTo(map);
  map.fitBounds(bounds, { padding: [16, 16] });
  map.setMinZoom(Math.min(0, Math.floor(map.getZoom())));
  tileLayer(layer, size).addTo(map);

  let marker = null;
  map.on('click', (event) => {
    const radius = PICK_PIXELS / 2 ** map.getZoom();
    onPick(event.latlng.lng, -event.latlng.lat, radius);
  });

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
  function focus(x, y, { animate = true, zoom = layer.max_zoom - 1, offset = [0, 0] } = {}) {
    const target = Math.max(map.getZoom(), zoom);
    const center = map.unproject(map.project(toLatLng(x, y), target).add(L.point(offset)), target);
    if (animate) map.flyTo(center, target, { duration: 0.8 });
    else map.setView(center, target, { animate: false });
  }

  return { map, mark, unmark, focus };
}
