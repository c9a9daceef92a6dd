/**
 * Aggregation of per-view ensemble scores into one number, with d(total)/d(perView).
 *   mean          plain mean
 *   min           worst view (gradient one-hot on it)
 *   softmin       -T log mean exp(-x/T), a smooth min (T -> 0 gives min, T -> inf the mean)
 *   sphere-smooth scores are first smoothed over the view sphere with a von Mises-like
 *                 kernel on the angle between view directions (as T3Bench smooths its
 *                 icosphere vertices), then soft-minned: the worst *region* of views counts,
 *                 not one noisy view.
 */
import type { Camera } from '../math/camera.ts';
import { towardsCamera } from './view-graph.ts';

export type AggregateMode = 'mean' | 'min' | 'softmin' | 'sphere-smooth';

export interface AggregateOptions {
  softminTemperature: number;
  /** Kernel width of sphere-smooth, in degrees. */
  sphereBandwidthDegrees: number;
}

export interface Aggregated {
  total: number;
  /** d(total)/d(perView[v]). */
  weights: Float32Array;
}

function softmin(xs: ArrayLike<number>, t: number): Aggregated {
  const n = xs.length;
  let lo = Infinity;
  for (let i = 0; i < n; i++) lo = Math.min(lo, xs[i]);
  const e = new Float64Array(n);
  let s = 0;
  for (let i = 0; i < n; i++) s += e[i] = Math.exp(-(xs[i] - lo) / t);
  const weights = new Float32Array(n);
  for (let i = 0; i < n; i++) weights[i] = e[i] / s;
  return { total: lo - t * Math.log(s / n), weights };
}

/** Row-normalised smoothing matrix K[v][u] over the view sphere. */
export function sphereKernel(cameras: Camera[], bandwidthDegrees: number): Float64Array[] {
  const dirs = cameras.map(towardsCamera);
  const kappa = 1 / (1 - Math.cos((bandwidthDegrees * Math.PI) / 180));
  return dirs.map((a) => {
    const row = new Float64Array(dirs.length);
    let s = 0;
    dirs.forEach((b, u) => {
      const cos = a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
      s += row[u] = Math.exp(kappa * (cos - 1));
    });
    for (let u = 0; u < row.length; u++) row[u] /= s;
    return row;
  });
}

export function aggregateViews(mode: AggregateMode, perView: Float32Array, cameras: Camera[], opts: AggregateOptions): Aggregated {
  const n = perView.length;
  if (mode === 'mean') {
    let s = 0;
    for (const x of perView) s += x;
    return { total: s / n, weights: new Float32Array(n).fill(1 / n) };
  }
  if (mode === 'min') {
    let best = 0;
    for (let i = 1; i < n; i++) if (perView[i] < perView[best]) best = i;
    const weights = new Float32Array(n);
    weights[best] = 1;
    return { total: perView[best], weights };
  }
  if (mode === 'softmin') return softmin(perView, opts.softminTemperature);
  const K = sphereKernel(cameras, opts.sphereBandwidthDegrees);
  const smoothed = K.map((row) => row.reduce((s, k, u) => s + k * perView[u], 0));
  const inner = softmin(smoothed, opts.softminTemperature);
  // Chain rule through the smoothing: d total / d x_u = sum_v a_v K[v][u].
  const weights = new Float32Array(n);
  for (let v = 0; v < n; v++) for (let u = 0; u < n; u++) weights[u] += inner.weights[v] * K[v][u];
  return { total: inner.total, weights };
}
