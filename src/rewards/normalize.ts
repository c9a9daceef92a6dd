/**
 * Per-component normalisation of per-view scores, so that rewards on different scales can
 * be summed with weights. `running`: (x - mean) / std with running statistics (Welford until
 * `window` samples, then exponential forgetting with weight 1/window). `rank`: centred ranks in
 * the batch, in [-1, 1]. `none`: as is. `scale` is d(normalised)/d(raw) used for gradients;
 * ranks are piecewise constant, so `rank` passes gradients with the batch's 1/std as a
 * surrogate scale.
 */
export type NormalizeMode = 'running' | 'rank' | 'none';

export interface RunningStats {
  count: number;
  mean: number;
  /** Running variance (population). */
  variance: number;
}

const EPS = 1e-6;

export function emptyStats(): RunningStats {
  return { count: 0, mean: 0, variance: 0 };
}

/** Adds a batch to the running statistics (mutates `s`). */
export function updateStats(s: RunningStats, xs: ArrayLike<number>, window: number): void {
  for (let i = 0; i < xs.length; i++) {
    const x = xs[i];
    s.count += 1;
    const a = 1 / Math.min(s.count, window);
    const d = x - s.mean;
    s.mean += a * d;
    // Exponentially weighted variance; equals Welford's population variance while count <= window.
    s.variance = (1 - a) * (s.variance + a * d * d);
  }
}

function batchStd(xs: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < xs.length; i++) m += xs[i];
  m /= xs.length;
  let v = 0;
  for (let i = 0; i < xs.length; i++) v += (xs[i] - m) ** 2;
  return Math.sqrt(v / xs.length);
}

/** Centred ranks in [-1, 1]; ties share their mean rank. */
export function centredRanks(xs: ArrayLike<number>): Float32Array {
  const n = xs.length;
  const out = new Float32Array(n);
  if (n < 2) return out;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => xs[a] - xs[b]);
  for (let i = 0; i < n; ) {
    let j = i;
    while (j + 1 < n && xs[order[j + 1]] === xs[order[i]]) j++;
    const rank = (i + j) / 2;
    for (let k = i; k <= j; k++) out[order[k]] = (2 * rank) / (n - 1) - 1;
    i = j + 1;
  }
  return out;
}

export interface Normalized {
  values: Float32Array;
  /** d(normalised value)/d(raw value), the same for every view. */
  scale: number;
}

/** Normalises one component's per-view scores; updates `stats` in `running` mode first. */
export function normalizeScores(mode: NormalizeMode, xs: Float32Array, stats: RunningStats, window: number): Normalized {
  if (mode === 'none') return { values: Float32Array.from(xs), scale: 1 };
  if (mode === 'rank') return { values: centredRanks(xs), scale: 1 / (batchStd(xs) + EPS) };
  updateStats(stats, xs, window);
  const std = Math.sqrt(stats.variance);
  // Until the statistics have a spread (first batch of identical scores), only centre.
  const scale = std > EPS ? 1 / std : 1;
  return { values: xs.map((x) => (x - stats.mean) * scale), scale };
}
