// Small random scenes and helpers shared by the deformation tests.
import type { Gpu } from '../../src/gpu/gpu.ts';
import { Rng } from '../../src/train/rng.ts';
import { emptyGaussians, type GaussianData } from '../../src/scene/gaussian-data.ts';
import type { CanonicalGrads, CanonicalSplats } from '../../src/scene/deform/deformation-field.ts';

export function randomArray(rng: Rng, n: number, lo: number, hi: number): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = lo + (hi - lo) * rng.next();
  return a;
}

/** Splats with means in [lo, hi]^3 (spilling past the field's bounds tests the clamping). */
export function randomScene(seed: number, count: number, shDegree: number, lo = -1.2, hi = 1.2): GaussianData {
  const rng = new Rng(seed);
  const g = emptyGaussians(count, shDegree);
  g.means.set(randomArray(rng, count * 3, lo, hi));
  g.logScales.set(randomArray(rng, count * 3, -3, -1));
  g.quats.set(randomArray(rng, count * 4, -1, 1));
  g.opacityLogits.set(randomArray(rng, count, -2, 2));
  g.sh.set(randomArray(rng, g.sh.length, -0.5, 0.5));
  return g;
}

export function uploadScene(gpu: Gpu, g: GaussianData): CanonicalSplats {
  return {
    count: g.count,
    shDegree: g.shDegree,
    means: gpu.upload('means', g.means),
    quats: gpu.upload('quats', g.quats),
    logScales: gpu.upload('logScales', g.logScales),
    opacityLogits: gpu.upload('opacity', g.opacityLogits),
    sh: gpu.upload('sh', g.sh),
  };
}

export function zeroGrads(gpu: Gpu, g: GaussianData): Required<CanonicalGrads> {
  return {
    means: gpu.buffer('g.means', g.means.byteLength),
    quats: gpu.buffer('g.quats', g.quats.byteLength),
    logScales: gpu.buffer('g.logScales', g.logScales.byteLength),
    opacityLogits: gpu.buffer('g.opacity', g.opacityLogits.byteLength),
    sh: gpu.buffer('g.sh', g.sh.byteLength),
  };
}

export function pick<T extends ArrayLike<number>>(a: T, indices: number[]): Float64Array {
  return Float64Array.from(indices, (i) => a[i]);
}

export function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}
