/**
 * gsplat's MCMC densification (3DGS-MCMC) in plain TypeScript: the host-side plan (which rows
 * are rewritten from which splat, with what corrected opacity and scale) and the references of
 * the three kernels of shaders/train/densify_mcmc.wgsl (gather with the correction, position
 * noise, opacity/scale regularisers).
 *
 * Relocation and growth put n copies of a splat where there was one; Eq. 9 of 3DGS-MCMC keeps
 * the rendered mass: o' = 1 - (1 - o)^(1/n) and
 * s' = o / (sum_{i=1..n} sum_{k=0..i-1} C(i-1, k) (-1)^k / sqrt(k+1) o'^(k+1)) * s,
 * computed here in f64 (the alternating binomial sum loses everything in f32 for large n).
 */
import { shCoeffCount, type GaussianData } from '../../scene/gaussian-data.ts';
import { hashNormal } from './hash-random.ts';
import { sigmoid } from '../../math/activations.ts';

/** Copies of one splat are capped as gsplat's binomial table (n_max = 51). */
export const MAX_COPIES = 51;
/** Rewritten rows are flagged in the source index's top bit. */
export const REWRITTEN_BIT = 0x80000000;

const logit = (p: number) => Math.log(p / (1 - p));

function binomial(n: number, k: number): number {
  let c = 1;
  for (let i = 1; i <= k; i++) c = (c * (n - k + i)) / i;
  return c;
}

/** The opacity and scale factor of each of n copies of a splat of opacity o (Eq. 9). */
export function relocationValues(o: number, copies: number, minOpacity: number): { opacity: number; scaleFactor: number } {
  const n = Math.min(Math.max(1, copies), MAX_COPIES);
  const oNew = Math.min(Math.max(1 - Math.pow(1 - o, 1 / n), minOpacity), 1 - 1e-6);
  let denom = 0;
  for (let i = 1; i <= n; i++)
    for (let k = 0; k < i; k++) denom += ((binomial(i - 1, k) * (k % 2 ? -1 : 1)) / Math.sqrt(k + 1)) * Math.pow(oNew, k + 1);
  return { opacity: oNew, scaleFactor: o / denom };
}

/** Row j of the next cloud: copy of splat `source[j] & ~REWRITTEN_BIT`, with new opacity logit and log-scale shift when flagged. */
export interface McmcPlan {
  rows: number;
  source: Uint32Array;
  opacityLogit: Float32Array;
  logScaleShift: Float32Array;
  relocated: number;
  added: number;
}

/** Index into a cumulative weight table for a uniform u (first entry whose cdf exceeds u * total). */
function pick(cdf: Float64Array, u: number): number {
  const x = u * cdf[cdf.length - 1];
  let lo = 0;
  let hi = cdf.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (cdf[mid] > x) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** Draws `count` indices from `candidates` with probability proportional to `weight` (with replacement). */
function sample(candidates: number[], weight: (i: number) => number, count: number, random: () => number): number[] {
  const cdf = new Float64Array(candidates.length);
  let acc = 0;
  candidates.forEach((i, k) => (cdf[k] = acc += Math.max(weight(i), 0)));
  if (!(acc > 0)) return [];
  return Array.from({ length: count }, () => candidates[pick(cdf, random())]);
}

/**
 * One refinement: dead splats (opacity <= minOpacity) move onto live ones drawn by opacity,
 * then min(capMax, floor(growFactor N)) - N new copies of splats drawn by opacity are appended.
 * Every splat that gained copies, and every copy, gets the corrected opacity and scale.
 */
export function planMcmc(opacityLogits: Float32Array, o: { minOpacity: number; capMax: number; growFactor: number }, random: () => number): McmcPlan {
  const n = opacityLogits.length;
  const opacity = Float64Array.from(opacityLogits, sigmoid);
  const logScaleShift = new Float64Array(n);
  const rewritten = new Uint8Array(n);
  const source = Uint32Array.from({ length: n }, (_, i) => i);

  // Relocation: dead rows take copies of live ones.
  const dead: number[] = [];
  const alive: number[] = [];
  for (let i = 0; i < n; i++) (opacity[i] <= o.minOpacity ? dead : alive).push(i);
  const relocatedFrom = dead.length && alive.length ? sample(alive, (i) => opacity[i], dead.length, random) : [];
  const apply = (picked: number[], targets: number[], opac: Float64Array, shift: Float64Array, src: Uint32Array, flags: Uint8Array) => {
    const counts = new Map<number, number>();
    for (const s of picked) counts.set(s, (counts.get(s) ?? 0) + 1);
    const values = new Map<number, { opacity: number; scaleFactor: number }>();
    for (const [s, c] of counts) values.set(s, relocationValues(opac[s], c + 1, o.minOpacity));
    const origin = (s: number) => ({ src: src[s], shift: shift[s] });
    picked.forEach((s, k) => {
      const v = values.get(s)!;
      const from = origin(s);
      const t = targets[k];
      src[t] = from.src;
      opac[t] = v.opacity;
      shift[t] = from.shift + Math.log(v.scaleFactor);
      flags[t] = 1;
    });
    for (const [s, v] of values) {
      opac[s] = v.opacity;
      shift[s] += Math.log(v.scaleFactor);
      flags[s] = 1;
    }
  };
  if (relocatedFrom.length) apply(relocatedFrom, dead.slice(0, relocatedFrom.length), opacity, logScaleShift, source, rewritten);

  // Growth towards the cap, sampled by the opacities after relocation.
  const target = Math.min(o.capMax, Math.floor(o.growFactor * n));
  const added = Math.max(0, target - n);
  const rows = n + added;
  const opac2 = new Float64Array(rows);
  opac2.set(opacity);
  const shift2 = new Float64Array(rows);
  shift2.set(logScaleShift);
  const src2 = new Uint32Array(rows);
  src2.set(source);
  const rewritten2 = new Uint8Array(rows);
  rewritten2.set(rewritten);
  const grownFrom = added ? sample(Array.from({ length: n }, (_, i) => i), (i) => opacity[i], added, random) : [];
  if (grownFrom.length) apply(grownFrom, Array.from({ length: grownFrom.length }, (_, k) => n + k), opac2, shift2, src2, rewritten2);
  const actualRows = n + grownFrom.length;
  const plan: McmcPlan = {
    rows: actualRows,
    source: new Uint32Array(actualRows),
    opacityLogit: new Float32Array(actualRows),
    logScaleShift: new Float32Array(actualRows),
    relocated: relocatedFrom.length,
    added: grownFrom.length,
  };
  for (let j = 0; j < actualRows; j++) {
    plan.source[j] = (src2[j] | (rewritten2[j] ? REWRITTEN_BIT : 0)) >>> 0;
    plan.opacityLogit[j] = rewritten2[j] ? logit(opac2[j]) : opacityLogits[src2[j]];
    plan.logScaleShift[j] = rewritten2[j] ? shift2[j] : 0;
  }
  return plan;
}

/** Reference of mcmc_gather on parameters: the next cloud laid out by the plan. */
export function applyPlanReference(data: GaussianData, plan: McmcPlan): GaussianData {
  const K = shCoeffCount(data.shDegree);
  const widths = { means: 3, logScales: 3, quats: 4, opacityLogits: 1, sh: K * 3 } as const;
  const out = { count: plan.rows, shDegree: data.shDegree } as GaussianData;
  for (const [name, w] of Object.entries(widths) as [keyof typeof widths, number][]) {
    const src = data[name];
    const dst = new Float32Array(plan.rows * w);
    for (let j = 0; j < plan.rows; j++) {
      const flagged = (plan.source[j] & REWRITTEN_BIT) !== 0;
      const i = plan.source[j] & ~REWRITTEN_BIT;
      for (let c = 0; c < w; c++) {
        let v = src[i * w + c];
        if (name === 'opacityLogits' && flagged) v = plan.opacityLogit[j];
        if (name === 'logScales' && flagged) v += plan.logScaleShift[j];
        dst[j * w + c] = v;
      }
    }
    out[name] = dst;
  }
  return out;
}

/** Reference of mcmc_gather on an Adam moment: carried for untouched rows, zero for rewritten ones. */
export function gatherMomentReference(moment: Float32Array, width: number, plan: McmcPlan): Float32Array {
  const out = new Float32Array(plan.rows * width);
  for (let j = 0; j < plan.rows; j++) {
    if (plan.source[j] & REWRITTEN_BIT) continue;
    const i = plan.source[j];
    for (let c = 0; c < width; c++) out[j * width + c] = moment[i * width + c];
  }
  return out;
}

/** Rotation matrix (row-major) of an unnormalised (w, x, y, z) quaternion. */
function rotation(q: ArrayLike<number>): number[] {
  const l = Math.hypot(q[0], q[1], q[2], q[3]) || 1;
  const [w, x, y, z] = [q[0] / l, q[1] / l, q[2] / l, q[3] / l];
  return [
    1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y),
    2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x),
    2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y),
  ];
}

/**
 * Reference of mcmc_inject_noise: means += Sigma z * sigmoid(100 ((1 - o) - 0.995)) * scale,
 * Sigma = R diag(s^2) R^T, z ~ N(0, I) from the hash generator (key = splat, channels 0..2).
 */
export function injectNoiseReference(data: GaussianData, seed: number, scale: number): Float32Array {
  const means = Float32Array.from(data.means);
  for (let i = 0; i < data.count; i++) {
    const R = rotation(data.quats.subarray(i * 4, i * 4 + 4));
    const s2 = [0, 1, 2].map((a) => Math.exp(2 * data.logScales[i * 3 + a]));
    const z = [0, 1, 2].map((c) => hashNormal(seed, i, c));
    // R^T z, scaled by s^2, rotated back.
    const rz = [0, 1, 2].map((a) => (R[a] * z[0] + R[3 + a] * z[1] + R[6 + a] * z[2]) * s2[a]);
    const gate = 1 / (1 + Math.exp(-100 * (1 - sigmoid(data.opacityLogits[i]) - 0.995)));
    for (let r = 0; r < 3; r++) means[i * 3 + r] += (R[r * 3] * rz[0] + R[r * 3 + 1] * rz[1] + R[r * 3 + 2] * rz[2]) * gate * scale;
  }
  return means;
}

/** Reference of mcmc_regularize: gradients of opacityReg mean(sigmoid(o)) + scaleReg mean(exp(s)). */
export function regularizerGradsReference(data: GaussianData, opacityReg: number, scaleReg: number): { opacityLogits: Float32Array; logScales: Float32Array } {
  const n = data.count;
  const opacityLogits = Float32Array.from(data.opacityLogits, (x) => {
    const p = sigmoid(x);
    return (opacityReg / n) * p * (1 - p);
  });
  const logScales = Float32Array.from(data.logScales, (x) => (scaleReg / (3 * n)) * Math.exp(x));
  return { opacityLogits, logScales };
}
