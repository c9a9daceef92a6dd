/**
 * Deterministic random initialisation of splats: uniform positions in a ball, isotropic-ish
 * scales, random rotations, a chosen opacity and random colours (DC term), higher SH zero
 * unless asked for.
 */
import { InputError } from '../errors.ts';
import { emptyGaussians, shCoeffCount, SH_C0, type GaussianData } from './gaussian-data.ts';

export interface SphereInitOptions {
  count: number;
  radius: number;
  shDegree: number;
  seed: number;
  center?: [number, number, number];
  /** Mean splat scale (world units); default radius / cbrt(count) / 2. */
  scale?: number;
  /** Log-normal spread of the three scales around `scale`; default 0.3. */
  scaleSpread?: number;
  /** Activated opacity; default 0.5. */
  opacity?: number;
  /** Standard deviation of the higher-order SH coefficients; default 0. */
  shRestStd?: number;
}

/** mulberry32: small, fast, good enough for initial values; one seed gives one stream. */
function seededUniform(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function gaussianFrom(uniform: () => number): () => number {
  return () => {
    const u = Math.max(uniform(), 1e-12);
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * uniform());
  };
}

export function randomGaussiansInSphere(opts: SphereInitOptions): GaussianData {
  const { count, radius, shDegree, seed } = opts;
  if (!(Number.isInteger(count) && count >= 0)) throw new InputError(`splat count must be a non-negative integer, got ${count}.`);
  if (!(radius > 0)) throw new InputError(`init radius must be positive, got ${radius}.`);
  const opacity = opts.opacity ?? 0.5;
  if (!(opacity > 0 && opacity < 1)) throw new InputError(`init opacity must be in (0, 1), got ${opacity}.`);
  const uniform = seededUniform(seed);
  const normal = gaussianFrom(uniform);
  const data = emptyGaussians(count, shDegree);
  const c = opts.center ?? [0, 0, 0];
  const scale = opts.scale ?? radius / Math.cbrt(Math.max(count, 1)) / 2;
  const spread = opts.scaleSpread ?? 0.3;
  const logit = Math.log(opacity / (1 - opacity));
  const k = shCoeffCount(shDegree);
  const restStd = opts.shRestStd ?? 0;
  for (let i = 0; i < count; i++) {
    // Uniform in the ball: a normal direction and radius ~ cbrt(u).
    let x = normal(), y = normal(), z = normal();
    const len = Math.hypot(x, y, z) || 1;
    const r = radius * Math.cbrt(uniform());
    data.means.set([c[0] + (x / len) * r, c[1] + (y / len) * r, c[2] + (z / len) * r], i * 3);
    for (let a = 0; a < 3; a++) data.logScales[i * 3 + a] = Math.log(scale) + spread * normal();
    x = normal(); y = normal(); z = normal();
    const w = normal();
    data.quats.set([w, x, y, z], i * 4);
    data.opacityLogits[i] = logit;
    for (let ch = 0; ch < 3; ch++) data.sh[i * k * 3 + ch] = (uniform() - 0.5) / SH_C0;
    for (let j = 3; j < k * 3; j++) data.sh[i * k * 3 + j] = restStd * normal();
  }
  return data;
}
