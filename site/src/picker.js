// Nearest model to a world position, reading only the pick cells that the search circle touches.

import { createBitmap, decodeFixed, decodeVarints } from './normalise.js';

const MAX_CELLS = 25;

export function createPicker(fetcher, urls, data) {
  const { zoom, steps } = data.pick;
  const side = 2 ** zoom;
  const cellSize = (data.pick.world || 256) / side; // the world square, 256 unless the map grew
  const occupied = createBitmap(data.pick.occupied);
  const decoded = new WeakMap();

  // A cell's points as [x, y, vertex]: vertices from their differences, positions at the middle of their step.
  function pointsOf(cell, cx, cy) {
    let points = decoded.get(cell);
    if (points) return points;
    const local = decodeFixed(cell.p, 2);
    let vertex = 0;
    points = decodeVarints(cell.v).map((delta, i) => {
      vertex += delta;
      return [(cx + (local[2 * i] + 0.5) / steps) * cellSize, (cy + (local[2 * i + 1] + 0.5) / steps) * cellSize, vertex];
    });
    decoded.set(cell, points);
    return points;
  }

  function cellsAround(x, y, radius) {
    const r = Math.min(radius, (Math.sqrt(MAX_CELLS) / 2) * cellSize);
    const clamp = (v) => Math.max(0, Math.min(side - 1, Math.floor(v / cellSize)));
    const cells = [];
    for (let cy = clamp(y - r); cy <= clamp(y + r); cy += 1) {
      for (let cx = clamp(x - r); cx <= clamp(x + r); cx += 1) {
        if (occupied(cy * side + cx)) cells.push([cx, cy]);
      }
    }
    return { cells, r };
  }

  async function nearest(x, y, radius) {
    const { cells, r } = cellsAround(x, y, radius);
    const loaded = await Promise.all(cells.map(([cx, cy]) => fetcher.json(urls.pickCell(zoom, cx, cy))));
    let best = null;
    let bestD = r * r;
    loaded.forEach((cell, i) => {
      for (const [px, py, vertex] of pointsOf(cell, cells[i][0], cells[i][1])) {
        const d = (px - x) ** 2 + (py - y) ** 2;
        if (d <= bestD) {
          bestD = d;
          best = { x: px, y: py, vertex };
        }
      }
    });
    return best;
  }

  // The occupied cells meeting a world box [[x0, y0], [x1, y1]], as [cx, cy], at most `max` of them.
  function cellsIn([[x0, y0], [x1, y1]], max = 64) {
    const clamp = (v) => Math.max(0, Math.min(side - 1, Math.floor(v / cellSize)));
    const cells = [];
    for (let cy = clamp(y0); cy <= clamp(y1); cy += 1) {
      for (let cx = clamp(x0); cx <= clamp(x1); cx += 1) if (occupied(cy * side + cx)) cells.push([cx, cy]);
    }
    return cells.length <= max ? cells : [];
  }

  // A cell's points as [x, y, vertex], vertices ascending.
  const pointsIn = async (cx, cy) => pointsOf(await fetcher.json(urls.pickCell(zoom, cx, cy)), cx, cy);

  return { nearest, cellsIn, pointsIn, zoom };
}
