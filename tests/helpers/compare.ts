// Tolerance checks from DESIGN.md: forward 1e-4 absolute; gradients rel. L2 < 1e-2, cosine > 0.999.
import { expect } from 'vitest';

type Num = ArrayLike<number>;

export function maxAbsDiff(a: Num, b: Num): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    if (!(d <= m)) m = Number.isNaN(d) ? Infinity : d;
  }
  return m;
}

export function relL2(actual: Num, expected: Num): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < actual.length; i++) {
    num += (actual[i] - expected[i]) ** 2;
    den += expected[i] ** 2;
  }
  return Math.sqrt(num) / Math.max(Math.sqrt(den), 1e-30);
}

export function cosine(a: Num, b: Num): number {
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < a.length; i++) {
    ab += a[i] * b[i];
    aa += a[i] * a[i];
    bb += b[i] * b[i];
  }
  if (aa === 0 && bb === 0) return 1;
  return ab / Math.sqrt(aa * bb);
}

export function expectClose(actual: Num, expected: Num, atol = 1e-4, what = 'values'): void {
  const d = maxAbsDiff(actual, expected);
  expect(d, `${what}: max abs diff ${d}`).toBeLessThanOrEqual(atol);
}

/** Gradient agreement: relative L2 below 1e-2 and cosine above 0.999 (or both near zero). */
export function expectGradClose(actual: Num, expected: Num, what = 'gradient', relTol = 1e-2, cosTol = 0.999): void {
  expect(actual.length, `${what}: length`).toBe(expected.length);
  const r = relL2(actual, expected);
  const c = cosine(actual, expected);
  expect(r, `${what}: relative L2 ${r}`).toBeLessThan(relTol);
  expect(c, `${what}: cosine ${c}`).toBeGreaterThan(cosTol);
}

/** Central finite differences of f at the given indices of x (f64, restored afterwards). */
export function finiteDifferences(f: () => number, x: Float64Array, indices: number[], h = 1e-6): Float64Array {
  const out = new Float64Array(indices.length);
  indices.forEach((idx, k) => {
    const keep = x[idx];
    x[idx] = keep + h;
    const up = f();
    x[idx] = keep - h;
    const down = f();
    x[idx] = keep;
    out[k] = (up - down) / (2 * h);
  });
  return out;
}
