/**
 * Plain-TypeScript reference of shaders/nerf/field.wgsl (f64 arithmetic on the given
 * parameters): hash-grid encoding with its spatial derivative, the MLP, and the backward
 * pass of one sample into hash and MLP gradient arrays.
 */
import { DENSITY_CLAMP, type FieldLayout, type Vec3 } from '../../scene/nerf/layout.ts';
import { sigmoid } from '../../math/activations.ts';

export type Params = ArrayLike<number>;

export interface FieldSample {
  enc: Float64Array;
  /** d enc[k] / d pos, [k][3]. */
  encGrad: Float64Array;
  pre: Float64Array;
  hid: Float64Array;
  sh: Float64Array;
  sigmaPre: number;
  sigma: number;
  colourPre: Vec3;
  colour: Vec3;
}

export function gridIndex(layout: FieldLayout, l: number, x: number, y: number, z: number): number {
  const r = layout.resolutions[l];
  if ((layout.denseMask >> l) & 1) {
    const s = r + 1;
    return x + y * s + z * s * s;
  }
  return ((x ^ Math.imul(y, 2654435761) ^ Math.imul(z, 805459861)) >>> 0) & (layout.tableSize - 1);
}

export function toUnit(layout: FieldLayout, p: ArrayLike<number>): Vec3 {
  const u = [0, 0, 0] as Vec3;
  for (let a = 0; a < 3; a++) u[a] = Math.min(1, Math.max(0, (p[a] - layout.boxMin[a]) / (layout.boxMax[a] - layout.boxMin[a])));
  return u;
}

/** Visits the 8 corners of p's cell in level l: table entry base index, weight, d weight / d pos. */
export function forEachCorner(layout: FieldLayout, l: number, p: ArrayLike<number>, visit: (base: number, w: number, dw: Vec3) => void): void {
  const u = toUnit(layout, p);
  const r = layout.resolutions[l];
  const c0 = [0, 0, 0];
  const fr = [0, 0, 0];
  for (let a = 0; a < 3; a++) {
    const g = u[a] * r;
    c0[a] = Math.min(Math.floor(g), r - 1);
    fr[a] = g - c0[a];
  }
  const scale = [0, 1, 2].map((a) => r / (layout.boxMax[a] - layout.boxMin[a]));
  for (let k = 0; k < 8; k++) {
    const b = [k & 1, (k >> 1) & 1, (k >> 2) & 1];
    const w3 = b.map((bi, a) => (bi ? fr[a] : 1 - fr[a]));
    const s = b.map((bi) => (bi ? 1 : -1));
    const w = w3[0] * w3[1] * w3[2];
    const dw: Vec3 = [s[0] * w3[1] * w3[2] * scale[0], w3[0] * s[1] * w3[2] * scale[1], w3[0] * w3[1] * s[2] * scale[2]];
    const base = (l * layout.tableSize + gridIndex(layout, l, c0[0] + b[0], c0[1] + b[1], c0[2] + b[2])) * layout.features;
    visit(base, w, dw);
  }
}

export function shDirection(d: ArrayLike<number>): Float64Array {
  const [x, y, z] = [d[0], d[1], d[2]];
  return Float64Array.of(
    0.28209479177387814,
    -0.4886025119029199 * y,
    0.4886025119029199 * z,
    -0.4886025119029199 * x,
    1.0925484305920792 * x * y,
    -1.0925484305920792 * y * z,
    0.31539156525252005 * (2 * z * z - x * x - y * y),
    -1.0925484305920792 * x * z,
    0.5462742152960396 * (x * x - y * y),
  );
}

export const truncExp = (x: number) => Math.exp(Math.min(x, DENSITY_CLAMP));
export function encode(layout: FieldLayout, hash: Params, p: ArrayLike<number>): { enc: Float64Array; encGrad: Float64Array } {
  const F = layout.features;
  const enc = new Float64Array(layout.encodingDim);
  const encGrad = new Float64Array(layout.encodingDim * 3);
  for (let l = 0; l < layout.levels; l++) {
    forEachCorner(layout, l, p, (base, w, dw) => {
      for (let f = 0; f < F; f++) {
        const v = hash[base + f];
        enc[l * F + f] += w * v;
        for (let a = 0; a < 3; a++) encGrad[(l * F + f) * 3 + a] += dw[a] * v;
      }
    });
  }
  return { enc, encGrad };
}

export function evalField(layout: FieldLayout, hash: Params, mlp: Params, p: ArrayLike<number>, dir: ArrayLike<number>): FieldSample {
  const { enc, encGrad } = encode(layout, hash, p);
  const E = layout.encodingDim;
  const H = layout.hidden;
  const o = layout.offsets;
  const pre = new Float64Array(H);
  const hid = new Float64Array(H);
  for (let j = 0; j < H; j++) {
    let z = mlp[o.b1 + j];
    for (let k = 0; k < E; k++) z += mlp[o.w1 + j * E + k] * enc[k];
    pre[j] = z;
    hid[j] = Math.max(z, 0);
  }
  let sigmaPre = mlp[o.bSigma];
  for (let j = 0; j < H; j++) sigmaPre += mlp[o.wSigma + j] * hid[j];
  const sh = layout.shCount ? shDirection(dir) : new Float64Array(0);
  const colourPre = [0, 0, 0] as Vec3;
  const CI = layout.colourInputs;
  for (let r = 0; r < 3; r++) {
    let s = mlp[o.bColour + r];
    for (let j = 0; j < H; j++) s += mlp[o.wColour + r * CI + j] * hid[j];
    for (let q = 0; q < layout.shCount; q++) s += mlp[o.wColour + r * CI + H + q] * sh[q];
    colourPre[r] = s;
  }
  return {
    enc, encGrad, pre, hid, sh, sigmaPre,
    sigma: truncExp(sigmaPre),
    colourPre,
    colour: colourPre.map(sigmoid) as Vec3,
  };
}

/** The central-difference points of fd_normal.wgsl, in its order: sum_i k_i k_i^T = FD_SCALE I. */
export const FD_POINTS: readonly Vec3[] = [[1, 0, 0], [-1, 0, 0], [0, 1, 0], [0, -1, 0], [0, 0, 1], [0, 0, -1]];
export const FD_SCALE = 2;

/** Compositing weight below which a sample gets no normal (fd_normal.wgsl NORMAL_MIN_WEIGHT). */
export const NORMAL_MIN_WEIGHT = 1e-4;

/** Central difference of the density pre-activation around p (fd_normal.wgsl): g = sum_i k_i s(p + eps k_i) / (2 eps). */
export function fdDensityGradient(layout: FieldLayout, hash: Params, mlp: Params, p: ArrayLike<number>, eps: number): Vec3 {
  const g: Vec3 = [0, 0, 0];
  for (const k of FD_POINTS) {
    const s = evalField(layout, hash, mlp, Array.from(p, (v, a) => v + eps * k[a]), [0, 0, 1]).sigmaPre;
    for (let a = 0; a < 3; a++) g[a] += (k[a] * s) / (FD_SCALE * eps);
  }
  return g;
}

/** World-space unit normal -g / |g| (0 where flat). */
export function unitNormal(g: Vec3): Vec3 {
  const n = Math.hypot(g[0], g[1], g[2]);
  return n < 1e-20 ? [0, 0, 0] : [-g[0] / n, -g[1] / n, -g[2] / n];
}

/**
 * Adds the gradients of one sample, given d/d(sigma pre-activation) and d/d(colour
 * pre-activations); returns d/d(encoding) for callers that continue to the position.
 */
export function backpropSample(
  layout: FieldLayout, mlp: Params, p: ArrayLike<number>, s: FieldSample,
  dSigmaPre: number, dColourPre: ArrayLike<number>, gradHash: Float64Array, gradMlp: Float64Array,
): Float64Array {
  const E = layout.encodingDim;
  const H = layout.hidden;
  const CI = layout.colourInputs;
  const o = layout.offsets;
  gradMlp[o.bSigma] += dSigmaPre;
  for (let r = 0; r < 3; r++) {
    gradMlp[o.bColour + r] += dColourPre[r];
    for (let j = 0; j < H; j++) gradMlp[o.wColour + r * CI + j] += dColourPre[r] * s.hid[j];
    for (let q = 0; q < layout.shCount; q++) gradMlp[o.wColour + r * CI + H + q] += dColourPre[r] * s.sh[q];
  }
  const dx = new Float64Array(E);
  for (let j = 0; j < H; j++) {
    gradMlp[o.wSigma + j] += dSigmaPre * s.hid[j];
    let dh = mlp[o.wSigma + j] * dSigmaPre;
    for (let r = 0; r < 3; r++) dh += mlp[o.wColour + r * CI + j] * dColourPre[r];
    const dz = s.pre[j] > 0 ? dh : 0;
    gradMlp[o.b1 + j] += dz;
    for (let k = 0; k < E; k++) {
      gradMlp[o.w1 + j * E + k] += dz * s.enc[k];
      dx[k] += mlp[o.w1 + j * E + k] * dz;
    }
  }
  const F = layout.features;
  for (let l = 0; l < layout.levels; l++) {
    forEachCorner(layout, l, p, (base, w) => {
      for (let f = 0; f < F; f++) gradHash[base + f] += w * dx[l * F + f];
    });
  }
  return dx;
}

/** d/d(position) of the sample given d/d(encoding); zero along axes where p is outside the box (the encoding clamps). */
export function positionGradient(layout: FieldLayout, p: ArrayLike<number>, s: FieldSample, dEnc: ArrayLike<number>): Vec3 {
  const g: Vec3 = [0, 0, 0];
  for (let a = 0; a < 3; a++) {
    if (p[a] < layout.boxMin[a] || p[a] > layout.boxMax[a]) continue;
    for (let k = 0; k < layout.encodingDim; k++) g[a] += dEnc[k] * s.encGrad[k * 3 + a];
  }
  return g;
}
