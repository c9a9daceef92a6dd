/**
 * k nearest neighbours of the canonical means, computed once on the CPU with a uniform grid
 * (rings of cells searched outwards until no unsearched cell can hold a closer point), and
 * Gaussian weights w_ij = exp(-d_ij^2 / h^2) with h^2 the mean squared neighbour distance.
 */
import { InputError } from '../../errors.ts';

export interface Neighbourhood {
  k: number;
  /** [N][k] neighbour indices, nearest first. */
  indices: Uint32Array;
  /** [N][k] weights in (0, 1]. */
  weights: Float32Array;
}

export function nearestNeighbours(means: ArrayLike<number>, k: number): Neighbourhood {
  const n = means.length / 3;
  if (!Number.isInteger(k) || k < 1 || k >= n) throw new InputError(`k nearest neighbours needs 1 <= k < splat count (${n}); k is ${k}.`);
  const lo = [Infinity, Infinity, Infinity];
  const hi = [-Infinity, -Infinity, -Infinity];
  for (let i = 0; i < n; i++)
    for (let c = 0; c < 3; c++) {
      lo[c] = Math.min(lo[c], means[3 * i + c]);
      hi[c] = Math.max(hi[c], means[3 * i + c]);
    }
  // About two points per cell on average.
  const g = Math.max(1, Math.floor(Math.cbrt(n / 2)));
  const size = [0, 1, 2].map((c) => Math.max(hi[c] - lo[c], 1e-9) / g);
  const minSize = Math.min(...size);
  const cellOf = (i: number, c: number) => Math.min(g - 1, Math.floor((means[3 * i + c] - lo[c]) / size[c]));
  const cellId = (x: number, y: number, z: number) => (z * g + y) * g + x;
  // Counting sort of the points by cell.
  const start = new Uint32Array(g * g * g + 1);
  const cells = new Uint32Array(n);
  for (let i = 0; i < n; i++) start[(cells[i] = cellId(cellOf(i, 0), cellOf(i, 1), cellOf(i, 2))) + 1]++;
  for (let c = 0; c < g * g * g; c++) start[c + 1] += start[c];
  const fill = start.slice(0, g * g * g);
  const sorted = new Uint32Array(n);
  for (let i = 0; i < n; i++) sorted[fill[cells[i]]++] = i;

  const indices = new Uint32Array(n * k);
  const dist2 = new Float64Array(n * k);
  const bestD = new Float64Array(k);
  const bestI = new Uint32Array(k);
  for (let i = 0; i < n; i++) {
    let found = 0;
    const ci = [cellOf(i, 0), cellOf(i, 1), cellOf(i, 2)];
    const consider = (j: number) => {
      if (j === i) return;
      let d = 0;
      for (let c = 0; c < 3; c++) d += (means[3 * j + c] - means[3 * i + c]) ** 2;
      if (found === k && d >= bestD[k - 1]) return;
      let at = found < k ? found++ : k - 1;
      while (at > 0 && bestD[at - 1] > d) {
        bestD[at] = bestD[at - 1];
        bestI[at] = bestI[at - 1];
        at--;
      }
      bestD[at] = d;
      bestI[at] = j;
    };
    for (let r = 0; r <= g; r++) {
      for (let z = ci[2] - r; z <= ci[2] + r; z++) {
        if (z < 0 || z >= g) continue;
        for (let y = ci[1] - r; y <= ci[1] + r; y++) {
          if (y < 0 || y >= g) continue;
          for (let x = ci[0] - r; x <= ci[0] + r; x++) {
            if (x < 0 || x >= g) continue;
            // Only the shell of ring r; inner rings were searched already.
            if (Math.max(Math.abs(x - ci[0]), Math.abs(y - ci[1]), Math.abs(z - ci[2])) !== r) continue;
            const c = cellId(x, y, z);
            for (let s = start[c]; s < start[c + 1]; s++) consider(sorted[s]);
          }
        }
      }
      if (found === k && bestD[k - 1] <= (r * minSize) ** 2) break;
    }
    indices.set(bestI, i * k);
    dist2.set(bestD, i * k);
  }
  let mean = 0;
  for (const d of dist2) mean += d / dist2.length;
  const weights = Float32Array.from(dist2, (d) => Math.exp(-d / Math.max(mean, 1e-30)));
  return { k, indices, weights };
}
