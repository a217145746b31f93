// The open model's lineage drawn over the raster: ancestors (every parent line) and descendants as SVG
// polylines and circle markers in their own pane, under the marker, with a note of what was left out.

import { formatFull, h, safeColor } from './dom.js';

export function createOverlay(view, note, { relationOf, onHide, onFit }) {
  const drawing = view.drawing('lineage', { zIndex: 390 });
  let bounds = null;

  const colour = (relation) => safeColor(relationOf(relation).color);

  function edge(parent, child, relation, kind) {
    drawing.line([[parent.x, parent.y], [child.x, child.y]], {
      color: colour(relation),
      weight: kind === 'ancestor' ? 2.5 : 1.25,
      opacity: kind === 'ancestor' ? 0.95 : 0.7,
      className: `lineage-edge ${kind}`,
    });
  }

  function dot(model, kind) {
    drawing.circle([model.x, model.y], {
      radius: kind === 'ancestor' ? 5 : 3,
      weight: kind === 'ancestor' ? 1.5 : 1,
      color: '#0b0e14',
      fillColor: colour(model.relation),
      fillOpacity: 1,
      className: `lineage-node ${kind}`,
    });
  }

  // `tree` from lineage.ancestry(), `down` from lineage.descendants().
  function draw(model, tree, down) {
    drawing.clear();
    const ancestors = [];
    const walk = (node) => {
      for (const parent of node.parents) {
        if (!parent.model) continue;
        edge(parent.model, node.model, parent.relation, 'ancestor');
        if (!parent.repeat) {
          ancestors.push(parent.model);
          walk(parent);
        }
      }
    };
    walk(tree);
    for (const [parent, child, relation] of down.edges) edge(parent, child, relation, 'descendant');
    for (const m of down.nodes) dot(m, 'descendant');
    for (const m of ancestors) dot(m, 'ancestor');
    const all = [model, ...ancestors, ...down.nodes];
    const xs = all.map((m) => m.x);
    const ys = all.map((m) => m.y);
    bounds = [[Math.min(...xs), Math.min(...ys)], [Math.max(...xs), Math.max(...ys)]];

    const parts = [
      `${formatFull(ancestors.length)} ancestor${ancestors.length === 1 ? '' : 's'}`,
      `${formatFull(down.nodes.length)} descendant${down.nodes.length === 1 ? '' : 's'}`,
    ];
    note.replaceChildren(
      h('span', { class: 'overlay-key', 'aria-hidden': 'true' }),
      h('span', { class: 'overlay-text' }, [h('strong', { text: 'Lineage' }), ` ${parts.join(' · ')}`, down.more ? h('span', { class: 'more', text: ` · +${formatFull(down.more)} more not drawn` }) : null]),
      all.length > 1 ? h('button', { type: 'button', class: 'pill-button', onclick: () => onFit(bounds) }, 'Fit') : null,
      h('button', { type: 'button', class: 'icon-button small', 'aria-label': 'Hide lineage on map', title: 'Hide lineage (Esc)', onclick: onHide }, '×'),
    );
    note.hidden = false;
  }

  function clear() {
    drawing.clear();
    note.hidden = true;
    note.replaceChildren();
    bounds = null;
  }

  return { draw, clear, isShown: () => !note.hidden };
}
