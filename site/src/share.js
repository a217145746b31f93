// Share: copy the current link (the view and the open model live in it) to the clipboard, or, where the
// clipboard is refused, show it selected in a read-only field to copy by hand.

import { h } from './dom.js';

export function createShare(button, popup, { link }) {
  const status = h('span', { class: 'visually-hidden', role: 'status', 'aria-live': 'polite' });
  button.after(status);
  let timer = 0;

  function flash(text) {
    status.textContent = text;
    button.dataset.state = 'copied';
    button.textContent = text;
    clearTimeout(timer);
    timer = setTimeout(() => {
      button.textContent = 'Share';
      delete button.dataset.state;
      status.textContent = '';
    }, 1800);
  }

  function fallback(url) {
    const field = h('input', { id: 'share-link', class: 'share-field', type: 'text', readonly: true, value: url, 'aria-label': 'Link to this view' });
    const close = h('button', { type: 'button', class: 'icon-button small', 'aria-label': 'Close', onclick: hide }, '×');
    popup.replaceChildren(h('div', { class: 'share-row' }, [h('label', { for: 'share-link', class: 'share-label', text: 'Copy this link' }), close]), field, h('p', { class: 'note', text: 'Press Ctrl+C (⌘C on a Mac) to copy.' }));
    popup.hidden = false;
    field.focus();
    field.select();
  }

  function hide() {
    if (popup.hidden) return false;
    popup.hidden = true;
    popup.replaceChildren();
    button.focus();
    return true;
  }

  button.addEventListener('click', async () => {
    const url = link();
    try {
      if (!navigator.clipboard?.writeText) throw new Error('no clipboard');
      await navigator.clipboard.writeText(url);
      hide();
      flash('Link copied');
    } catch {
      fallback(url);
    }
  });

  return { hide, isOpen: () => !popup.hidden };
}
