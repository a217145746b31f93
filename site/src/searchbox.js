// Typeahead search box: ARIA combobox, ↑/↓/Enter/Escape, results as id + downloads.
//
// On a slow link every keystroke shows something at once: the results already on screen that still match
// what is typed, marked "Searching…", while the lookup runs; the search files this text needs start loading
// on the keystroke itself (search.prefetch), not after the typing pause.

import { formatCount, h } from './dom.js';
import { tokens } from './normalise.js';

const DEBOUNCE_MS = 120; // a pause in the typing; the files start loading on each key anyway

export function createSearchBox(root, search, { onChoose }) {
  const input = h('input', {
    id: 'search-input',
    class: 'search-input',
    type: 'search',
    placeholder: 'Search models — e.g. llama 3 8b gguf',
    autocomplete: 'off',
    spellcheck: 'false',
    role: 'combobox',
    'aria-autocomplete': 'list',
    'aria-expanded': 'false',
    'aria-controls': 'search-results',
    'aria-label': 'Search models by id',
  });
  const list = h('ul', { id: 'search-results', class: 'search-results', role: 'listbox', hidden: true });
  const status = h('div', { class: 'visually-hidden', role: 'status', 'aria-live': 'polite' });
  const icon = h('span', { class: 'search-icon', 'aria-hidden': 'true' });
  root.append(h('div', { class: 'search-field' }, [icon, input]), list, status);

  let results = [];
  let complete = true; // false: the search stopped at its byte budget, more models may match further down
  let active = -1;
  let seq = 0;
  let timer = 0;

  function setActive(i) {
    active = i;
    [...list.children].forEach((li, j) => li.setAttribute('aria-selected', String(j === i)));
    if (i >= 0 && list.children[i]) {
      input.setAttribute('aria-activedescendant', list.children[i].id);
      list.children[i].scrollIntoView({ block: 'nearest' });
    } else input.removeAttribute('aria-activedescendant');
  }

  function close() {
    list.hidden = true;
    input.setAttribute('aria-expanded', 'false');
    setActive(-1);
  }

  function choose(i) {
    const result = results[i];
    if (!result) return;
    close();
    input.value = result.id;
    onChoose(result);
  }

  function option(result, i) {
    const slash = result.id.indexOf('/');
    const idNode = h('span', { class: 'result-id' }, slash < 0 ? [h('span', { class: 'name', text: result.id })] : [h('span', { class: 'owner', text: result.id.slice(0, slash + 1) }), h('span', { class: 'name', text: result.id.slice(slash + 1) })]);
    return h('li', { id: `search-option-${i}`, role: 'option', class: 'result', 'aria-selected': 'false', onmousedown: (e) => e.preventDefault(), onclick: () => choose(i), onmousemove: () => active !== i && setActive(i) }, [
      idNode,
      h('span', { class: 'result-downloads', title: 'downloads (30 d)', text: formatCount(result.downloads) }),
    ]);
  }

  const note = (text, className = 'note') => h('li', { class: `result ${className}`, role: 'presentation', text });

  // `pending`: the results are what is left of a shorter query's, the lookup of `query` still running.
  function render(query, { pending = false } = {}) {
    if (!query.trim()) return close();
    const items = results.map(option);
    if (pending) items.push(note('Searching…', 'note searching'));
    else if (!results.length) items.push(note(complete ? 'No model matches.' : 'No match among the most downloaded models.', 'empty'));
    else if (!complete) items.push(note('More may match among less downloaded models: add a word.'));
    list.replaceChildren(...items);
    list.hidden = false;
    if (pending) delete list.dataset.query;
    else list.dataset.query = query;
    list.setAttribute('aria-busy', String(pending));
    input.setAttribute('aria-expanded', 'true');
    if (!pending) status.textContent = `${results.length} result${results.length === 1 ? '' : 's'}`;
    setActive(results.length ? 0 : -1);
  }

  // What is shown already and still matches `query` (every word a prefix of one of the id's), at once.
  function narrow(query) {
    const words = tokens(query);
    results = results.filter((r) => {
      const own = tokens(r.id);
      return words.every((w) => own.some((t) => t.startsWith(w)));
    });
    render(query, { pending: true });
  }

  let running = null; // the AbortController of the lookup in progress

  async function update() {
    const query = input.value;
    const mine = ++seq;
    running?.abort();
    running = new AbortController();
    let found = { results: [], complete: true };
    try {
      found = await search.lookup(query, 10, { signal: running.signal });
    } catch (error) {
      console.warn('search failed:', error);
    }
    if (mine !== seq) return;
    ({ results, complete } = found);
    render(query);
  }

  input.addEventListener('input', () => {
    clearTimeout(timer);
    seq += 1; // a lookup still running is for older text: its answer is dropped, its walk stopped
    running?.abort();
    search.prefetch(input.value);
    narrow(input.value);
    timer = setTimeout(update, DEBOUNCE_MS);
  });
  input.addEventListener('focus', () => input.value.trim() && results.length && render(input.value));
  input.addEventListener('blur', () => setTimeout(close, 120));
  input.addEventListener('keydown', (event) => {
    const n = results.length;
    if (event.key === 'ArrowDown' && n) {
      event.preventDefault();
      if (list.hidden) render(input.value);
      setActive((active + 1) % n);
    } else if (event.key === 'ArrowUp' && n) {
      event.preventDefault();
      setActive((active - 1 + n) % n);
    } else if (event.key === 'Enter') {
      event.preventDefault();
      clearTimeout(timer);
      // The list may still show a shorter prefix's results: only those of what is typed are chosen.
      if (!list.hidden && active >= 0 && list.dataset.query === input.value) choose(active);
      else update().then(() => choose(0));
    } else if (event.key === 'Escape' && (!list.hidden || input.value)) {
      event.stopPropagation(); // first Escapes close the list and clear the box; the next reaches the panel
      if (!list.hidden) close();
      else input.value = '';
    }
  });

  // Let go of what the box says unless it names `id` (the model now open, or null for none).
  function keep(id) {
    if (input.value && input.value !== id) {
      input.value = '';
      results = [];
      close();
    }
  }

  return { focus: () => input.focus(), keep, input };
}
