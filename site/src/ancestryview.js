// The ancestry section of the details panel: the model, then each parent line up to its root(s), with the
// relation and the declared licence at every hop. A declared licence that differs from the parent's is
// marked as a difference in what the Hub metadata declares, not as a legal finding.

import { formatFull, h } from './dom.js';
import { MAX_GENERATIONS, licenceChange, summarise } from './lineage.js';

const HOPS = {
  finetune: 'fine-tuned from',
  adapter: 'adapter on',
  quantized: 'quantized from',
  merge: 'merged from',
  unknown: 'derived from (relation not stated)',
};

export function renderAncestry({ tree, models }, { modelLink, relationOf }) {
  const { generations, changes } = summarise(tree);
  const licence = (node) => node.model?.licence || null;

  function hop(child, parent) {
    const change = licenceChange(parent, child);
    const text = HOPS[parent.relation] || `${relationOf(parent.relation).label.toLowerCase()} of`;
    return h('li', { class: `hop${change ? ' changed' : ''}` }, [
      h('span', { class: 'hop-relation', text }),
      change ? h('span', { class: 'hop-licence', text: `declared licence changes: ${change[0]} → ${change[1]}` }) : null,
    ]);
  }

  // The button's name is the id and the relation it was reached by; note and licence sit beside it.
  function row(node, current) {
    const lic = licence(node);
    const relation = node.relation ? relationOf(node.relation).label : null;
    const note = node.repeat ? 'see above' : node.model && !node.model.parents.length ? 'root' : null;
    return modelLink(node.vertex, node.id, {
      dotRelation: node.model?.relation ?? null,
      label: relation ? `${node.id}, ${relation}` : node.id,
      current,
      aside: [
        note ? h('span', { class: 'link-note', text: note }) : null,
        h('span', { class: `link-meta licence${lic ? '' : ' none'}`, title: lic ? 'declared licence' : 'no licence declared', text: lic || 'no licence' }),
      ].filter(Boolean),
    });
  }

  function line(node, current = false) {
    const items = [row(node, current)];
    if (node.repeat) return items;
    const parents = node.parents;
    if (parents.length === 1) items.push(hop(node, parents[0]), ...line(parents[0]));
    else if (parents.length > 1) {
      items.push(
        h('li', { class: 'fork' }, [
          h('span', { class: 'hop-relation', text: `${parents.length} parent lines` }),
          h(
            'ol',
            { class: 'branches' },
            parents.map((p, i) => h('li', { class: 'branch', 'aria-label': `parent line ${i + 1} of ${parents.length}` }, [h('ol', { class: 'links chain' }, [hop(node, p), ...line(p)])])),
          ),
        ]),
      );
    }
    if (node.more) items.push(h('li', { class: 'more', text: `+${formatFull(node.more)} more parent${node.more === 1 ? '' : 's'} not shown` }));
    if (node.deeper) items.push(h('li', { class: 'more', text: `+ more generations beyond ${MAX_GENERATIONS}` }));
    return items;
  }

  const count = `${generations} generation${generations === 1 ? '' : 's'}${models > generations ? ` · ${formatFull(models)} ancestors` : ''}`;
  const summary = changes.length
    ? h('p', { class: 'licence-note', role: 'note' }, [
        h('strong', { text: 'Declared licence changes: ' }),
        changes.map(([a, b]) => `${a} → ${b}`).join('; '),
        h('span', { class: 'fine', text: ' (as declared in Hub metadata; not a legal assessment)' }),
      ])
    : null;
  return [h('h3', {}, ['Ancestry ', h('span', { class: 'count', text: count })]), summary, h('ol', { class: 'links chain' }, line(tree, true))];
}
