// The "Licence changes" dialog: every parent -> child link whose declared licences differ, across the atlas,
// filterable by family (data/licences/, written by atlasgen/licence_changes.py). Only the family list and the
// page in view are fetched: "All families" is the most-downloaded changes (top.json); a family reads the
// chunk files that hold it, one at a time ("Show more"). Each child links to `#m=<id>`, the normal route.

import { formatCount, formatFull, h } from './dom.js';

const NOTE = 'declared licence differs from its parent’s (as declared in Hub metadata; not a legal assessment)';
const ALL = '';
const text = (value) => (value === null || value === undefined ? '' : String(value));

export function createLicenceChanges(urls, fetcher) {
  if (!urls) return null; // an atlas built before the licence changes were written

  const title = h('h2', { id: 'licences-title', text: 'Licence changes' });
  const close = h('button', { type: 'button', class: 'icon-button', 'aria-label': 'Close', title: 'Close (Esc)' }, '×');
  const select = h('select', { id: 'licences-family', class: 'licences-select' }, [h('option', { value: ALL, text: 'All families (most downloaded)' })]);
  const status = h('p', { class: 'note licences-status', role: 'status', 'aria-live': 'polite' });
  const list = h('ul', { class: 'licences-list', 'aria-labelledby': 'licences-title' });
  const more = h('button', { type: 'button', class: 'pill-button licences-more', hidden: true }, 'Show more');
  const dialog = h('dialog', { id: 'licences', class: 'about licences', 'aria-labelledby': 'licences-title' }, [
    h('div', { class: 'panel-head' }, [title, close]),
    h('p', { class: 'note', text: `Each row is a model whose ${NOTE}.` }),
    h('label', { class: 'licences-label', for: 'licences-family', text: 'Family' }),
    select,
    status,
    list,
    more,
  ]);
  close.addEventListener('click', () => dialog.close());
  dialog.addEventListener('click', (event) => event.target === dialog && dialog.close()); // the backdrop
  document.body.append(dialog);

  let families = []; // [{root, changes, family_changes, chunks: [first, last]}]
  let loaded = null; // the families list, once
  let seq = 0; // the latest request: older answers are dropped
  let next = null; // the next chunk of the family in view, or null

  function row(change) {
    const child = text(change.child);
    const link = h('a', { class: 'licences-child', href: `#m=${encodeURIComponent(child)}`, title: child, text: child, onclick: () => dialog.close() });
    const licences = `${text(change.parent_licence)} → ${text(change.child_licence)}`; // parent → child, as everywhere
    const meta = [
      h('span', { class: 'licences-parent', text: `from ${text(change.parent)}` }),
      h('span', { class: 'link-meta licence', title: 'parent → child, as declared', text: licences }),
      change.families_differ ? h('span', { class: 'badge warn', text: 'licence family differs' }) : null,
      Number.isFinite(change.downloads) ? h('span', { class: 'licences-downloads', title: `${formatFull(change.downloads)} downloads`, text: `${formatCount(change.downloads)} ↓` }) : null,
    ];
    return h('li', {}, [link, h('div', { class: 'licences-meta' }, meta)]);
  }

  function show(changes, append) {
    if (!append) list.replaceChildren();
    list.append(...changes.map(row));
  }

  async function loadFamilies() {
    loaded ??= fetcher.json(urls.families).then((payload) => {
      families = (Array.isArray(payload?.families) ? payload.families : []).filter((f) => f && Array.isArray(f.chunks));
      select.append(
        ...families.map((f, i) => {
          const differ = Number(f.family_changes) || 0;
          const label = `${text(f.root)} — ${formatFull(f.changes)} change${f.changes === 1 ? '' : 's'}${differ ? `, ${formatFull(differ)} change licence family` : ''}`;
          return h('option', { value: String(i), text: label });
        }),
      );
      return families;
    });
    return loaded;
  }

  async function choose(value, append = false) {
    const mine = ++seq;
    list.setAttribute('aria-busy', 'true');
    more.hidden = true;
    try {
      if (value === ALL) {
        const payload = await fetcher.json(urls.top);
        if (mine !== seq) return;
        const changes = Array.isArray(payload?.changes) ? payload.changes : [];
        show(changes, false);
        next = null;
        const total = families.reduce((sum, f) => sum + (Number(f.changes) || 0), 0);
        const shown = changes.length < total ? `the ${formatFull(changes.length)} most downloaded of ${formatFull(total)}` : `all ${formatFull(total)}`;
        status.textContent = changes.length ? `All families: ${shown} changes, most-downloaded child first.` : 'No declared licence changes in this atlas.';
      } else {
        const family = families[Number(value)];
        const [first, last] = family.chunks.map(Number);
        const chunk = append && next !== null ? next : first;
        const payload = await fetcher.json(urls.chunk(chunk));
        if (mine !== seq) return;
        const root = text(family.root);
        show((Array.isArray(payload?.changes) ? payload.changes : []).filter((c) => text(c.family) === root), append);
        next = chunk < last ? chunk + 1 : null;
        more.hidden = next === null;
        const shown = list.childElementCount;
        status.textContent = `${formatFull(shown)} of ${formatFull(family.changes)} changes in the family of ${root}.`;
      }
    } catch (error) {
      if (mine === seq) status.textContent = `Could not load the licence changes: ${text(error.message || error)}`;
    } finally {
      if (mine === seq) list.removeAttribute('aria-busy');
    }
  }

  select.addEventListener('change', () => choose(select.value));
  more.addEventListener('click', () => choose(select.value, true));

  async function open() {
    dialog.showModal();
    try {
      await loadFamilies();
    } catch (error) {
      status.textContent = `Could not load the licence changes: ${text(error.message || error)}`;
      loaded = null;
      return;
    }
    if (!list.childElementCount) choose(select.value);
  }

  const button = h('button', { type: 'button', class: 'footer-about', 'aria-haspopup': 'dialog', onclick: open }, 'Licence changes');
  return { button, open, isOpen: () => dialog.open };
}
