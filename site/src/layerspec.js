// What the viewer reads from atlas.json's `layers`: base layers replace each other, overlays (the `edges`
// layer, or any layer marked `"overlay": true`) draw on top of the base layer.

export const OVERZOOM = 2; // zoom levels past a layer's deepest tiles, drawn by scaling those up

export const isOverlay = (layer) => layer.overlay === true || layer.id === 'edges';

// Zooms at which a layer has something to show: from its first tiles (any zoom out when that is 0) to
// OVERZOOM past its last.
export function inZoomRange(layer, zoom) {
  const min = layer.min_zoom > 0 ? layer.min_zoom : -Infinity;
  return zoom >= min - 1e-9 && zoom <= (layer.max_zoom ?? 0) + OVERZOOM + 1e-9;
}

export function splitLayers(layers) {
  const usable = (layers || []).filter((l) => l && typeof l.id === 'string' && typeof l.url === 'string');
  return { bases: usable.filter((l) => !isOverlay(l)), overlays: usable.filter(isOverlay) };
}
