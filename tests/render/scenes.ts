// Small random scenes and cameras shared by the renderer tests.
import { orbitCamera, type Camera } from '../../src/math/camera.ts';
import { randomGaussiansInSphere } from '../../src/scene/gaussian-init.ts';
import type { GaussianData } from '../../src/scene/gaussian-data.ts';

export function cameras(count: number, width: number, height: number, radius = 3, fovY = 50): Camera[] {
  return Array.from({ length: count }, (_, i) =>
    orbitCamera({ elevation: 20 - 17 * i, azimuth: 15 + 73 * i, radius, width, height, fovY }),
  );
}

/** A copy with f64 arrays (the reference reads either). */
export function toF64(d: GaussianData): GaussianData {
  const c = (a: Float32Array) => Float64Array.from(a) as unknown as Float32Array;
  return { ...d, means: c(d.means), logScales: c(d.logScales), quats: c(d.quats), opacityLogits: c(d.opacityLogits), sh: c(d.sh) };
}

/** Deterministic pseudo-random numbers in [-1, 1) for cotangents. */
export function randomArray(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 31 - 1;
  }
  return out;
}

export function smallScene(count: number, shDegree: number, seed: number, opts: { scale?: number; opacity?: number } = {}): GaussianData {
  return randomGaussiansInSphere({ count, radius: 0.8, shDegree, seed, scale: opts.scale ?? 0.18, opacity: opts.opacity ?? 0.6, shRestStd: 0.3 });
}
