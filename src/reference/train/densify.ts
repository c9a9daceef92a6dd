/**
 * Reference of gsplat's default densification on CPU data, the twin of
 * shaders/train/densify_default.wgsl: classify (prune / keep / duplicate / split), lay out the
 * new rows in splat order (a grown splat's copies follow it), carry Adam moments (zero for
 * new copies and split samples), move split samples by R (s * randn), shrink their scales.
 */
import { shCoeffCount, type GaussianData } from '../../scene/gaussian-data.ts';
import { hashNormal } from './hash-random.ts';
import { sigmoid } from '../../math/activations.ts';

export const enum DensifyAction {
  Prune = 0,
  Keep = 1,
  Duplicate = 2,
  Split = 3,
}

export interface DefaultDensifyParams {
  growGrad2d: number;
  /** Absolute (already multiplied by the scene scale). */
  growScale3d: number;
  pruneOpacity: number;
  pruneScale3d: number;
  checkTooBig: boolean;
  seed: number;
}

const LOG_SPLIT = Math.log(1.6);
export function classifyReference(data: GaussianData, gradNorm: Float32Array, visible: Float32Array, p: DefaultDensifyParams): DensifyAction[] {
  const out: DensifyAction[] = [];
  for (let i = 0; i < data.count; i++) {
    const seen = visible[i];
    const avg = seen > 0 ? gradNorm[i] / Math.max(seen, 1) : 0;
    const maxLog = Math.max(data.logScales[3 * i], data.logScales[3 * i + 1], data.logScales[3 * i + 2]);
    let action = DensifyAction.Keep;
    let resultScale = Math.exp(maxLog);
    if (avg > p.growGrad2d) {
      if (Math.exp(maxLog) <= p.growScale3d) action = DensifyAction.Duplicate;
      else {
        action = DensifyAction.Split;
        resultScale = Math.exp(maxLog - LOG_SPLIT);
      }
    }
    if (sigmoid(data.opacityLogits[i]) < p.pruneOpacity || (p.checkTooBig && resultScale > p.pruneScale3d)) action = DensifyAction.Prune;
    out.push(action);
  }
  return out;
}

/** Rotation matrix (row-major) of an unnormalised (w, x, y, z) quaternion. */
function quatToMatrix(w: number, x: number, y: number, z: number): number[] {
  const l = Math.hypot(w, x, y, z) || 1;
  w /= l; x /= l; y /= l; z /= l;
  return [
    1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y),
    2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x),
    2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y),
  ];
}

export interface MomentSet {
  [group: string]: { m: Float32Array; v: Float32Array };
}

export function densifyReference(
  data: GaussianData,
  gradNorm: Float32Array,
  visible: Float32Array,
  moments: MomentSet,
  p: DefaultDensifyParams,
): { data: GaussianData; moments: MomentSet; actions: DensifyAction[] } {
  const actions = classifyReference(data, gradNorm, visible, p);
  const rows: { src: number; copy: number }[] = [];
  actions.forEach((a, i) => {
    const n = a === DensifyAction.Prune ? 0 : a === DensifyAction.Keep ? 1 : 2;
    for (let c = 0; c < n; c++) rows.push({ src: i, copy: c });
  });
  const K = shCoeffCount(data.shDegree);
  const widths: Record<string, number> = { means: 3, logScales: 3, quats: 4, opacityLogits: 1, sh: K * 3 };
  const gather = (src: Float32Array, w: number, f: (v: number, src: number, copy: number) => number) => {
    const dst = new Float32Array(rows.length * w);
    rows.forEach(({ src: i, copy }, j) => {
      for (let k = 0; k < w; k++) dst[j * w + k] = f(src[i * w + k], i, copy);
    });
    return dst;
  };
  const same = (v: number) => v;
  const out: GaussianData = {
    count: rows.length,
    shDegree: data.shDegree,
    means: gather(data.means, 3, same),
    logScales: gather(data.logScales, 3, (v, i) => (actions[i] === DensifyAction.Split ? Math.fround(v - LOG_SPLIT) : v)),
    quats: gather(data.quats, 4, same),
    opacityLogits: gather(data.opacityLogits, 1, same),
    sh: gather(data.sh, K * 3, same),
  };
  rows.forEach(({ src: i, copy }, j) => {
    if (actions[i] !== DensifyAction.Split) return;
    const s = [0, 1, 2].map((k) => Math.exp(data.logScales[3 * i + k]));
    const r = [0, 1, 2].map((k) => hashNormal(p.seed, i * 2 + copy, k));
    const R = quatToMatrix(data.quats[4 * i], data.quats[4 * i + 1], data.quats[4 * i + 2], data.quats[4 * i + 3]);
    for (let a = 0; a < 3; a++) out.means[3 * j + a] = data.means[3 * i + a] + R[3 * a] * s[0] * r[0] + R[3 * a + 1] * s[1] * r[1] + R[3 * a + 2] * s[2] * r[2];
  });
  const zeroNew = (v: number, i: number, copy: number) =>
    actions[i] === DensifyAction.Split || (actions[i] === DensifyAction.Duplicate && copy === 1) ? 0 : v;
  const outMoments: MomentSet = {};
  for (const [name, { m, v }] of Object.entries(moments)) outMoments[name] = { m: gather(m, widths[name], zeroNew), v: gather(v, widths[name], zeroNew) };
  return { data: out, moments: outMoments, actions };
}
