/**
 * Plain-TypeScript reference of the HexPlane deformation field (f64 loops): bilinear samples
 * of six planes per level, multiplied (4DGS's Hadamard product), concatenated over levels,
 * one hidden ReLU layer, a linear layer to the 14 offset channels. The backward pass gives
 * the planes', the MLP's and the canonical means' gradients for given offset cotangents.
 */
import { hexPlaneLayout, PLANE_AXES, type HexPlaneConfig, type HexPlaneLayout } from '../../scene/deform/hexplane-layout.ts';
import { OFFSET_STRIDE } from '../../scene/deform/offsets.ts';

type Num = ArrayLike<number>;

interface Tap {
  /** Texel indices (float offsets into the planes buffer, feature 0) of the 4 corners. */
  i00: number;
  i10: number;
  i01: number;
  i11: number;
  fa: number;
  fb: number;
  /** d(grid coordinate a, b)/d(world coordinate); zero where clamped or along time. */
  da: number;
  db: number;
  axisA: number;
  axisB: number;
}

/** Normalised coordinate in [0, 1] and its derivative (0 where clamped). */
function normalise(x: number, lo: number, hi: number): [number, number] {
  const u = (x - lo) / (hi - lo);
  if (u < 0) return [0, 0];
  if (u > 1) return [1, 0];
  return [u, 1 / (hi - lo)];
}

function taps(c: HexPlaneConfig, L: HexPlaneLayout, level: number, x: number, y: number, z: number, t: number): Tap[] {
  const coords = [
    normalise(x, c.boundsMin[0], c.boundsMax[0]),
    normalise(y, c.boundsMin[1], c.boundsMax[1]),
    normalise(z, c.boundsMin[2], c.boundsMax[2]),
    normalise(t, c.timeRange[0], c.timeRange[1]),
  ];
  const F = L.features;
  return PLANE_AXES.map(([a, b], p) => {
    const [w, h] = L.planeDims[level][p];
    const ga = coords[a][0] * (w - 1);
    const gb = coords[b][0] * (h - 1);
    const ia = Math.min(Math.floor(ga), w - 2);
    const ib = Math.min(Math.floor(gb), h - 2);
    const base = L.planeOffsets[level * 6 + p];
    const at = (ja: number, jb: number) => base + (jb * w + ja) * F;
    return {
      i00: at(ia, ib),
      i10: at(ia + 1, ib),
      i01: at(ia, ib + 1),
      i11: at(ia + 1, ib + 1),
      fa: ga - ia,
      fb: gb - ib,
      da: a < 3 ? coords[a][1] * (w - 1) : 0,
      db: b < 3 ? coords[b][1] * (h - 1) : 0,
      axisA: a,
      axisB: b,
    };
  });
}

function sample(planes: Num, tp: Tap, f: number): number {
  const { fa, fb } = tp;
  return (
    (1 - fa) * (1 - fb) * planes[tp.i00 + f] +
    fa * (1 - fb) * planes[tp.i10 + f] +
    (1 - fa) * fb * planes[tp.i01 + f] +
    fa * fb * planes[tp.i11 + f]
  );
}

export interface HexPlaneSplatForward {
  features: Float64Array;
  pre: Float64Array;
  hidden: Float64Array;
  offsets: Float64Array;
}

/** The field at one splat: features, hidden pre-activations and activations, offsets (masked by heads). */
export function hexPlaneSplatRef(c: HexPlaneConfig, planes: Num, mlp: Num, mean: Num, time: number): HexPlaneSplatForward {
  const L = hexPlaneLayout(c);
  const F = L.features;
  const features = new Float64Array(L.inputs);
  for (let l = 0; l < L.levels; l++) {
    const tp = taps(c, L, l, mean[0], mean[1], mean[2], time);
    for (let f = 0; f < F; f++) {
      let prod = 1;
      for (let p = 0; p < 6; p++) prod *= sample(planes, tp[p], f);
      features[l * F + f] = prod;
    }
  }
  const pre = new Float64Array(L.hidden);
  const hidden = new Float64Array(L.hidden);
  for (let j = 0; j < L.hidden; j++) {
    let s = mlp[L.b1 + j];
    for (let i = 0; i < L.inputs; i++) s += mlp[L.w1 + j * L.inputs + i] * features[i];
    pre[j] = s;
    hidden[j] = s > 0 ? s : 0;
  }
  const offsets = new Float64Array(OFFSET_STRIDE);
  for (let o = 0; o < OFFSET_STRIDE; o++) {
    if (!headEnabled(c, o)) continue;
    let s = mlp[L.b2 + o];
    for (let j = 0; j < L.hidden; j++) s += mlp[L.w2 + o * L.hidden + j] * hidden[j];
    offsets[o] = s;
  }
  return { features, pre, hidden, offsets };
}

/** Whether offset channel o is produced (position, rotation and scale always; the rest by option). */
export function headEnabled(c: Pick<HexPlaneConfig, 'opacityHead' | 'colorHead'>, o: number): boolean {
  if (o < 10) return true;
  if (o === 10) return c.opacityHead;
  return c.colorHead;
}

/** Offsets [N][14] of the field for all splats at one time. */
export function hexPlaneOffsetsRef(c: HexPlaneConfig, planes: Num, mlp: Num, means: Num, time: number): Float64Array {
  const n = means.length / 3;
  const out = new Float64Array(n * OFFSET_STRIDE);
  for (let i = 0; i < n; i++) {
    const r = hexPlaneSplatRef(c, planes, mlp, [means[3 * i], means[3 * i + 1], means[3 * i + 2]], time);
    out.set(r.offsets, i * OFFSET_STRIDE);
  }
  return out;
}

export interface HexPlaneGrads {
  planes: Float64Array;
  mlp: Float64Array;
  /** The offsets' dependence on the canonical means (the Jacobian term only). */
  means: Float64Array;
}

/** Gradients of sum(dOffsets * offsets) with respect to planes, MLP and canonical means. */
export function hexPlaneBackwardRef(c: HexPlaneConfig, planes: Num, mlp: Num, means: Num, time: number, dOffsets: Num): HexPlaneGrads {
  const L = hexPlaneLayout(c);
  const F = L.features;
  const n = means.length / 3;
  const g: HexPlaneGrads = {
    planes: new Float64Array(L.planeFloats),
    mlp: new Float64Array(L.mlpFloats),
    means: new Float64Array(n * 3),
  };
  for (let i = 0; i < n; i++) {
    const m = [means[3 * i], means[3 * i + 1], means[3 * i + 2]];
    const r = hexPlaneSplatRef(c, planes, mlp, m, time);
    const dOut = new Float64Array(OFFSET_STRIDE);
    for (let o = 0; o < OFFSET_STRIDE; o++) dOut[o] = headEnabled(c, o) ? dOffsets[i * OFFSET_STRIDE + o] : 0;
    const dPre = new Float64Array(L.hidden);
    for (let o = 0; o < OFFSET_STRIDE; o++) {
      g.mlp[L.b2 + o] += dOut[o];
      for (let j = 0; j < L.hidden; j++) {
        g.mlp[L.w2 + o * L.hidden + j] += dOut[o] * r.hidden[j];
        if (r.pre[j] > 0) dPre[j] += mlp[L.w2 + o * L.hidden + j] * dOut[o];
      }
    }
    const dFeat = new Float64Array(L.inputs);
    for (let j = 0; j < L.hidden; j++) {
      g.mlp[L.b1 + j] += dPre[j];
      for (let k = 0; k < L.inputs; k++) {
        g.mlp[L.w1 + j * L.inputs + k] += dPre[j] * r.features[k];
        dFeat[k] += mlp[L.w1 + j * L.inputs + k] * dPre[j];
      }
    }
    for (let l = 0; l < L.levels; l++) {
      const tp = taps(c, L, l, m[0], m[1], m[2], time);
      for (let f = 0; f < F; f++) {
        const s = tp.map((t) => sample(planes, t, f));
        for (let p = 0; p < 6; p++) {
          let others = dFeat[l * F + f];
          for (let q = 0; q < 6; q++) if (q !== p) others *= s[q];
          const t = tp[p];
          g.planes[t.i00 + f] += others * (1 - t.fa) * (1 - t.fb);
          g.planes[t.i10 + f] += others * t.fa * (1 - t.fb);
          g.planes[t.i01 + f] += others * (1 - t.fa) * t.fb;
          g.planes[t.i11 + f] += others * t.fa * t.fb;
          const v00 = planes[t.i00 + f], v10 = planes[t.i10 + f], v01 = planes[t.i01 + f], v11 = planes[t.i11 + f];
          const dga = (1 - t.fb) * (v10 - v00) + t.fb * (v11 - v01);
          const dgb = (1 - t.fa) * (v01 - v00) + t.fa * (v11 - v10);
          if (t.axisA < 3) g.means[3 * i + t.axisA] += others * dga * t.da;
          if (t.axisB < 3) g.means[3 * i + t.axisB] += others * dgb * t.db;
        }
      }
    }
  }
  return g;
}
