// Text rules shared with atlasgen/index.py: tokens, file keys of search prefixes, and the decoders of the
// compact streams of atlasgen/index_codec.py.

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

// A base64 bitmap (bit i = byte i >> 3, least significant bit first) as a membership test.
export function createBitmap(base64) {
  const raw = atob(base64 || '');
  return (i) => i >= 0 && i >> 3 < raw.length && ((raw.charCodeAt(i >> 3) >> (i & 7)) & 1) === 1;
}

// -- decoders of atlasgen/index_codec.py: varint and fixed-width character streams, front-coded strings --

const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz-_';
const DIGIT = new Int8Array(128).fill(-1);
for (let i = 0; i < ALPHABET.length; i += 1) DIGIT[ALPHABET.charCodeAt(i)] = i;

// The value of one character of a fixed or code stream (-1 for a character outside the alphabet).
export const digit = (ch) => DIGIT[ch.charCodeAt(0)] ?? -1;

// A varint stream (5 bits a character, the last of a number below 32) as a reader.
export function createReader(text) {
  let pos = 0;
  return {
    next() {
      let value = 0;
      for (;;) {
        const d = DIGIT[text.charCodeAt(pos++)];
        if (d < 0 || pos > text.length) throw new Error('corrupt varint stream');
        if (d < 32) return value * 32 + d;
        value = value * 32 + (d - 32);
      }
    },
    done: () => pos >= text.length,
  };
}

export function decodeVarints(text) {
  const reader = createReader(text || '');
  const out = [];
  while (!reader.done()) out.push(reader.next());
  return out;
}

export function decodeFixed(text, width) {
  const out = [];
  for (let i = 0; i + width <= (text || '').length; i += width) {
    let value = 0;
    for (let k = 0; k < width; k += 1) value = value * 64 + DIGIT[text.charCodeAt(i + k)];
    out.push(value);
  }
  return out;
}

// Front-coded strings: lens = [shared, rest, ...] in UTF-16 units, rests concatenated.
export function frontDecode(lens, rests, start = '') {
  const out = [];
  let prev = start;
  let pos = 0;
  for (let i = 0; i + 1 < lens.length; i += 2) {
    const cur = prev.slice(0, lens[i]) + rests.slice(pos, pos + lens[i + 1]);
    pos += lens[i + 1];
    out.push(cur);
    prev = cur;
  }
  return out;
}

// Code-point order (Python's string order), which UTF-16 comparison breaks for astral characters.
export function compareIds(a, b) {
  const x = a[Symbol.iterator]();
  const y = b[Symbol.iterator]();
  for (;;) {
    const p = x.next();
    const q = y.next();
    if (p.done || q.done) return p.done && q.done ? 0 : p.done ? -1 : 1;
    const d = p.value.codePointAt(0) - q.value.codePointAt(0);
    if (d) return d < 0 ? -1 : 1;
  }
}
