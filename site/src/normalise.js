// Text rules shared with atlasgen/index.py: tokens, file keys of search prefixes, the id-bucket hash.

const SEPARATORS = /[/\-_. ]+/;

export function tokens(text) {
  return text.toLowerCase().split(SEPARATORS).filter(Boolean);
}

// Query text as a search phrase: tokens joined by single spaces.
export function phrase(text) {
  return tokens(text).join(' ');
}

// Every phrase of an id, from each token boundary (a superset of the phrases the index holds).
export function phrasesOf(id) {
  const toks = tokens(id);
  return toks.map((_, i) => toks.slice(i).join(' '));
}

const encoder = new TextEncoder();

export function encodeKey(prefix) {
  if (!prefix) return '_root';
  let out = '';
  for (const ch of prefix) {
    if ((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9')) out += ch;
    else if (ch === ' ') out += '_';
    else for (const b of encoder.encode(ch)) out += '-' + b.toString(16).padStart(2, '0');
  }
  return out;
}

export function fnv1a32(text) {
  let h = 0x811c9dc5;
  for (const b of encoder.encode(text)) {
    h ^= b;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

// A base64 bitmap (bit i = byte i >> 3, least significant bit first) as a membership test.
export function createBitmap(base64) {
  const raw = atob(base64 || '');
  return (i) => i >= 0 && i >> 3 < raw.length && ((raw.charCodeAt(i >> 3) >> (i & 7)) & 1) === 1;
}
