// Label placement for the close-up: greedy, in priority order, each name in the first of eight places beside
// its point where it meets no placed name and no obstacle (the open model's ring, the page's controls),
// keeping off other points where it can. A name that fits nowhere is shortened, then left out. Boxes are screen rectangles { left, top, right, bottom }; a grid makes each test cheap.

const PAD = 2; // px kept between a name and anything else
const CELL = 48; // px, of the grid that indexes placed boxes

function meets(a, b) {
  return a.left < b.right + PAD && b.left < a.right + PAD && a.top < b.bottom + PAD && b.top < a.bottom + PAD;
}

function createGrid() {
  const cells = new Map();
  const keys = (b, fn) => {
    for (let gx = Math.floor(b.left / CELL); gx <= Math.floor(b.right / CELL); gx += 1) {
      for (let gy = Math.floor(b.top / CELL); gy <= Math.floor(b.bottom / CELL); gy += 1) fn(`${gx},${gy}`);
    }
  };
  return {
    add(box) {
      keys(box, (k) => (cells.get(k) || cells.set(k, []).get(k)).push(box));
    },
    hits(box, ignore = null) {
      let hit = false;
      keys(box, (k) => {
        if (!hit) hit = (cells.get(k) || []).some((b) => b !== ignore && meets(box, b));
      });
      return hit;
    },
  };
}

// Where a w x h name may go around a point at (x, y) drawn with radius r: right, left, the four diagonals,
// above, below (top-left corners).
function spots(x, y, r, w, h) {
  const d = r + PAD;
  const c = Math.round(r * 0.7) + PAD;
  return [
    [x + d, y - h / 2],
    [x - d - w, y - h / 2],
    [x + c, y - c - h],
    [x + c, y + c],
    [x - c - w, y - c - h],
    [x - c - w, y + c],
    [x - w / 2, y - d - h],
    [x - w / 2, y + d],
  ];
}

// Shorter forms of a name, down to `min` characters and an ellipsis.
function* forms(text, min = 8) {
  yield text;
  for (let n = Math.min(text.length - 1, 24); n >= min; n -= 4) yield `${text.slice(0, n)}…`;
}

// `items`: [{ key, x, y, r, text, solid }] in priority order (solid: no other name may cover its point); `frame`: the box names must stay inside; `obstacles`:
// boxes no name may meet; `measure(text)`: its width in px; `height`: a name's height.
// Returns [{ key, text, left, top, width, height }] for the names placed.
export function placeLabels(items, { frame, obstacles = [], measure, height = 14 }) {
  const names = createGrid();
  const points = createGrid();
  for (const box of obstacles) names.add(box);
  const dots = new Map();
  for (const item of items) {
    const dot = { left: item.x - item.r, top: item.y - item.r, right: item.x + item.r, bottom: item.y + item.r };
    dots.set(item.key, dot);
    points.add(dot);
    if (item.solid) names.add(dot); // no other name may cover it (the open model's ring)
  }
  const inside = (b) => b.left >= frame.left && b.right <= frame.right && b.top >= frame.top && b.bottom <= frame.bottom;
  const placed = [];
  for (const item of items) {
    const found = fit(item, { names, points, own: dots.get(item.key), inside, measure, height });
    if (!found) continue;
    names.add(found.box);
    placed.push({ key: item.key, text: found.text, left: found.box.left, top: found.box.top, width: found.width, height });
  }
  return placed;
}

function fit(item, { names, points, own, inside, measure, height }) {
  for (const text of forms(item.text)) {
    const width = Math.ceil(measure(text));
    for (const keepOffPoints of [true, false]) {
      for (const [left, top] of spots(item.x, item.y, item.r, width, height)) {
        const box = { left, top, right: left + width, bottom: top + height };
        if (!inside(box) || names.hits(box, own)) continue;
        if (keepOffPoints && points.hits(box, own)) continue;
        return { text, box, width };
      }
    }
  }
  return null;
}
