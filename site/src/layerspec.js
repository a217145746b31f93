// What the viewer reads from atlas.json's `layers`: base layers replace each other, overlays (a layer marked
// `"overlay": true`) draw on top of the base layer. No layer is known by its id.

export const OVERZOOM = 2; // zoom levels past a layer's deepest tiles, drawn by scaling those up

// The first zoom drawn as a close-up: one level past a layer's deepest tiles, where they start to blur.
export const closeupFrom = (layer) => (layer?.max_zoom ?? 0) + 1;

export const isOverlay = (layer) => layer.overlay === true;

// Zooms at which a layer has something to show: from its first tiles (any zoom out when that is 0) to
// OVERZOOM past its last; a base layer's colours go on into the close-up.
export function inZoomRange(layer, zoom) {
  const min = layer.min_zoom > 0 ? layer.min_zoom : -Infinity;
  const max = isOverlay(layer) ? (layer.max_zoom ?? 0) + OVERZOOM : Infinity;
  return zoom >= min - 1e-9 && zoom <= max + 1e-9;
}

export function splitLayers(layers) {
  const usable = (layers || []).filter((l) => l && typeof l.id === 'string' && typeof l.url === 'string');
  return { bases: usable.filter((l) => !isOverlay(l)), overlays: usable.filter(isOverlay) };
}

// The legend of relations to a parent (labels and colours of the panel's chips and the lineage lines): the
// layer marked `"kind": "relation"`, else the first base layer whose legend names every relation the atlas
// counts among its edges (atlas.json's counts.edges_by_relation), else the first base layer.
export function relationLegend(atlas) {
  const { bases } = splitLayers(atlas.layers);
  const relations = Object.keys(atlas.counts?.edges_by_relation || {});
  const names = (layer) => new Set((layer.legend || []).map((e) => e.key));
  const covers = (layer) => relations.every((key) => names(layer).has(key));
  const layer = bases.find((l) => l.kind === 'relation') || bases.find(covers) || bases[0];
  return layer?.legend || [];
}
