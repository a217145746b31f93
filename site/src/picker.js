// Nearest model to a world position, reading only the pick cells that the search circle touches.

import { createBitmap } from './normalise.js';

const MAX_CELLS = 25;

export function createPicker(fetcher, urls, data) {
  const { zoom } = data.pick;
  const side = 2 ** zoom;
  const cellSize = 256 / side;
  const occupied = createBitmap(data.pick.occupied);

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
    for (const cell of loaded) {
      for (const [px, py, vertex] of cell.points) {
        const d = (px - x) ** 2 + (py - y) ** 2;
        if (d <= bestD) {
          bestD = d;
          best = { x: px, y: py, vertex };
        }
      }
    }
    return best;
  }

  return { nearest };
}
