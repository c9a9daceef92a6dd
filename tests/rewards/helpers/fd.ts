// Central finite differences of a scalar function of one array, at a few sampled coordinates.
import { rng } from './scenes.ts';

export function fdAt(
  x: Float32Array,
  f: (x: Float32Array) => number,
  coords: number[],
  eps = 1e-3,
): Float64Array {
  const out = new Float64Array(coords.length);
  coords.forEach((i, k) => {
    const keep = x[i];
    // The array is f32: divide by the step actually taken.
    x[i] = keep + eps;
    const xp = x[i];
    const fp = f(x);
    x[i] = keep - eps;
    const xm = x[i];
    const fm = f(x);
    x[i] = keep;
    out[k] = (fp - fm) / (xp - xm);
  });
  return out;
}

/** Sample coordinates, preferring ones where the analytic gradient is non-zero. */
export function sampleCoords(grad: ArrayLike<number>, n: number, seed = 7): number[] {
  const r = rng(seed);
  const nz: number[] = [];
  for (let i = 0; i < grad.length; i++) if (grad[i] !== 0) nz.push(i);
  const pool = nz.length >= n ? nz : Array.from({ length: grad.length }, (_, i) => i);
  const out = new Set<number>();
  while (out.size < Math.min(n, pool.length)) out.add(pool[Math.floor(r() * pool.length)]);
  return [...out];
}

export function pick(a: ArrayLike<number>, coords: number[]): Float64Array {
  return Float64Array.from(coords, (i) => a[i]);
}
