// The details panel of one model: identity, facts, ancestry (with declared licences) and children (each opens
// that model), and a toggle for the lineage drawn on the map.

import { renderAncestry } from './ancestryview.js';
import { hubUrl } from './config.js';
import { formatCount, formatFull, h, safeColor } from './dom.js';

export function createPanel(root, { relations, onOpen, onClose, onOverlay }) {
  const relationOf = (key) => relations.get(key) || { label: key || 'unknown', color: '#8b93a7' };

  function chip(key, extra = '') {
    const rel = relationOf(key);
    const dot = h('span', { class: 'dot', 'aria-hidden': 'true' });
    dot.style.background = safeColor(rel.color);
    return h('span', { class: `chip ${extra}`.trim() }, [dot, rel.label]);
  }

  function idParts(id) {
    const slash = id.indexOf('/');
    if (slash < 0) return [h('span', { class: 'name', text: id })];
    return [h('span', { class: 'owner', text: id.slice(0, slash + 1) }), h('span', { class: 'name', text: id.slice(slash + 1) })];
  }

  // A clickable model: `dotRelation` colours the dot (the model's own relation), `meta` is the right-hand note;
  // `aside` (nodes) follow the button in its row, outside its accessible name.
  function modelButton(vertex, id, { dotRelation, meta, label, aside = null, current = false } = {}) {
    const dot = h('span', { class: 'dot', 'aria-hidden': 'true' });
    if (dotRelation) dot.style.background = safeColor(relationOf(dotRelation).color);
    const parts = [dotRelation !== undefined ? dot : null, h('span', { class: 'link-id' }, idParts(id)), meta ? h('span', { class: 'link-meta', text: meta }) : null];
    const aria = label || (meta ? `${id}, ${meta}` : id);
    const link = current
      ? h('span', { class: 'model-link current', 'aria-current': 'true' }, parts)
      : h('button', { type: 'button', class: 'model-link', title: id, 'aria-label': aria, onclick: () => onOpen(vertex, id) }, parts);
    return h('li', { class: aside ? 'row' : null }, [link, ...(aside || [])]);
  }

  function fact(label, value, title) {
    const known = value !== null && value !== undefined && value !== '';
    return [h('dt', { text: label }), h('dd', { class: known ? '' : 'unknown', title: known ? title : undefined, text: known ? value : '—' })];
  }

  let overlayShown = true;
  const overlayToggle = h('button', {
    type: 'button',
    class: 'pill-button overlay-toggle',
    'aria-pressed': 'true',
    title: 'Draw this model\'s ancestors and descendants on the map',
    onclick: () => onOverlay(!overlayShown),
  }, 'Lineage on map');

  function setOverlay(shown) {
    overlayShown = shown;
    overlayToggle.setAttribute('aria-pressed', String(shown));
  }

  function header(model) {
    const close = h('button', { type: 'button', class: 'icon-button', 'aria-label': 'Close details', title: 'Close (Esc)', onclick: onClose }, '×');
    const badges = [chip(model.relation)];
    if (model.virtual) badges.push(h('span', { class: 'badge warn', text: 'not in snapshot' }));
    return h('div', { class: 'panel-head' }, [h('div', { class: 'badges' }, badges), overlayToggle, close]);
  }

  function title(model) {
    const link = h('a', { href: hubUrl(model.id), target: '_blank', rel: 'noopener noreferrer', title: 'Open on Hugging Face' }, idParts(model.id));
    return h('h2', { id: 'panel-title', class: 'model-id' }, [link]);
  }

  function facts(model) {
    return h('dl', { class: 'facts' }, [
      ...fact('Downloads (30 d)', model.downloads === null ? null : formatFull(model.downloads)),
      ...fact('Likes', model.likes === null ? null : formatFull(model.likes)),
      ...fact('Task', model.task),
      ...fact('Library', model.library),
      ...fact('Licence (declared)', model.licence),
      ...fact('Created', model.created),
      ...fact('Author', model.author),
    ]);
  }

  // Roots get their note at once; the ancestry of a derived model arrives with showAncestry().
  function ancestrySlot(model) {
    if (model.parents.length) {
      return h('section', { class: 'group lineage', 'aria-busy': 'true' }, [h('h3', { text: 'Ancestry' }), h('p', { class: 'note', text: 'Loading ancestry…' })]);
    }
    const note = model.virtual ? 'Referenced as a parent, but absent from the snapshot.' : 'No documented parent: a base model.';
    return h('section', { class: 'group' }, [h('h3', { text: 'Ancestry' }), h('p', { class: 'note', text: note })]);
  }

  function children(model) {
    if (!model.children_total) {
      return h('section', { class: 'group' }, [h('h3', { text: 'Children' }), h('p', { class: 'note', text: 'No documented derivatives.' })]);
    }
    const counts = Object.entries(model.children_by_relation)
      .sort((a, b) => b[1] - a[1])
      .map(([rel, n]) => h('span', { class: 'chip-count' }, [chip(rel), h('span', { class: 'n', text: formatFull(n) })]));
    const shown = model.children.length;
    return h('section', { class: 'group' }, [
      h('h3', {}, ['Children ', h('span', { class: 'count', text: formatFull(model.children_total) })]),
      h('div', { class: 'counts' }, counts),
      h('ul', { class: 'links' }, model.children.map(([v, id, rel, dl]) => modelButton(v, id, { dotRelation: rel, meta: dl === null ? null : `${formatCount(dl)} ↓` }))),
      shown < model.children_total ? h('p', { class: 'note', text: `Showing the ${shown} most downloaded of ${formatFull(model.children_total)}.` }) : null,
    ]);
  }

  function show(model) {
    root.replaceChildren(header(model), title(model), facts(model), ancestrySlot(model), children(model));
    root.hidden = false;
    root.scrollTop = 0;
    root.dataset.vertex = String(model.vertex);
  }

  function showAncestry(vertex, result) {
    const slot = root.querySelector('.lineage');
    if (!slot || root.dataset.vertex !== String(vertex)) return;
    slot.replaceChildren(...renderAncestry(result, { modelLink: modelButton, relationOf }).filter(Boolean));
    slot.removeAttribute('aria-busy');
  }

  function message(text, id) {
    const close = h('button', { type: 'button', class: 'icon-button', 'aria-label': 'Close details', onclick: onClose }, '×');
    root.replaceChildren(h('div', { class: 'panel-head' }, [h('div', { class: 'badges' }), close]), id ? h('h2', { class: 'model-id' }, idParts(id)) : null, h('p', { class: 'note', text }));
    root.hidden = false;
    delete root.dataset.vertex;
  }

  function hide() {
    root.hidden = true;
    root.replaceChildren();
    delete root.dataset.vertex;
  }

  return { show, showAncestry, setOverlay, message, hide, isOpen: () => !root.hidden };
}
