/**
 * Reference (f64, plain loops) of the per-(view, splat) projection and its VJP: EWA
 * projection with the 15% frustum clamp, the eps2d blur and antialias compensation, opacity,
 * SH colour, camera depth, the world-space normal (shortest axis, facing the camera) and the
 * tile rectangle the GPU bins the splat into.
 */
import type { Camera } from '../../math/camera.ts';
import { cameraCenter } from '../../math/camera.ts';
import { ALPHA_MIN, EPS2D, FRUSTUM_MARGIN, TILE_SIZE } from '../../render/splat/constants.ts';
import { shBasis, shBasisGrad } from './sh.ts';
import { sigmoid } from '../../math/activations.ts';

export type Vec3 = [number, number, number];
/** 3x3 matrices are flat row-major arrays of 9. */
export type Mat3 = number[];

export interface RefView {
  R: Mat3;
  t: Vec3;
  fx: number;
  fy: number;
  cx: number;
  cy: number;
  width: number;
  height: number;
  campos: Vec3;
}

export function refView(cam: Camera): RefView {
  const m = cam.viewmat;
  return {
    R: [m[0], m[1], m[2], m[4], m[5], m[6], m[8], m[9], m[10]],
    t: [m[3], m[7], m[11]],
    fx: cam.fx, fy: cam.fy, cx: cam.cx, cy: cam.cy,
    width: cam.width, height: cam.height,
    campos: cameraCenter(cam),
  };
}

export interface ProjectOptions {
  near: number;
  far: number;
  antialiased: boolean;
  /** SH degree used (<= the data's). */
  shDegree: number;
}

export interface SplatParams {
  mean: Vec3;
  logScale: Vec3;
  quat: [number, number, number, number];
  logit: number;
  /** K*3 coefficients, [K][3]. */
  sh: ArrayLike<number>;
}

export interface Splat2D {
  /** Touches at least one tile. */
  visible: boolean;
  radius: number;
  /** Tile rectangle [x0, y0, x1, y1), empty when invisible. */
  rect: [number, number, number, number];
  mean2d: [number, number];
  conic: Vec3;
  opacity: number;
  rgb: Vec3;
  depth: number;
  normal: Vec3;
}

export interface Grad2D {
  mean2d: [number, number];
  conic: Vec3;
  opacity: number;
  rgb: Vec3;
  depth: number;
  normal: Vec3;
}

export interface ParamGrad {
  mean: Vec3;
  logScale: Vec3;
  quat: [number, number, number, number];
  logit: number;
  sh: number[];
}

const mul = (a: Mat3, b: Mat3): Mat3 => {
  const o = new Array(9).fill(0);
  for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) for (let k = 0; k < 3; k++) o[i * 3 + j] += a[i * 3 + k] * b[k * 3 + j];
  return o;
};
const tr = (a: Mat3): Mat3 => [a[0], a[3], a[6], a[1], a[4], a[7], a[2], a[5], a[8]];
const mv = (a: Mat3, v: Vec3): Vec3 => [
  a[0] * v[0] + a[1] * v[1] + a[2] * v[2],
  a[3] * v[0] + a[4] * v[1] + a[5] * v[2],
  a[6] * v[0] + a[7] * v[1] + a[8] * v[2],
];

export function quatToRotmat(w: number, x: number, y: number, z: number): Mat3 {
  return [
    1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y),
    2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x),
    2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y),
  ];
}

/** VJP of quatToRotmat at a unit quaternion (w, x, y, z). */
function rotmatVjp(q: number[], g: Mat3): [number, number, number, number] {
  const [w, x, y, z] = q;
  return [
    2 * (-z * g[1] + y * g[2] + z * g[3] - x * g[5] - y * g[6] + x * g[7]),
    2 * (y * g[1] + z * g[2] + y * g[3] - 2 * x * g[4] - w * g[5] + z * g[6] + w * g[7] - 2 * x * g[8]),
    2 * (-2 * y * g[0] + x * g[1] + w * g[2] + x * g[3] + z * g[5] - w * g[6] + z * g[7] - 2 * y * g[8]),
    2 * (-2 * z * g[0] - w * g[1] + x * g[2] + w * g[3] - 2 * z * g[4] + y * g[5] + x * g[6] + y * g[7]),
  ];
}

/** Everything the forward computes, kept for the backward. */
interface Geometry {
  culled: boolean;
  qn: number[];
  qlen: number;
  Rq: Mat3;
  s: Vec3;
  M: Mat3;
  Sigma: Mat3;
  pc: Vec3;
  Sc: Mat3;
  clampX: boolean;
  clampY: boolean;
  tx: number;
  ty: number;
  J: number[]; // 2x3 row-major
  covb: [number, number, number]; // xx, xy, yy after blur
  det: number;
  comp: number;
  conic: Vec3;
  mean2d: [number, number];
  sig: number;
  opacity: number;
  axis: number;
  normalSign: number;
}

function geometry(view: RefView, p: SplatParams, opts: ProjectOptions): Geometry {
  const [qw, qx, qy, qz] = p.quat;
  const qlen = Math.hypot(qw, qx, qy, qz);
  const qn = [qw / qlen, qx / qlen, qy / qlen, qz / qlen];
  const Rq = quatToRotmat(qn[0], qn[1], qn[2], qn[3]);
  const s: Vec3 = [Math.exp(p.logScale[0]), Math.exp(p.logScale[1]), Math.exp(p.logScale[2])];
  const M = Rq.map((v, i) => v * s[i % 3]);
  const Sigma = mul(M, tr(M));
  const pc = mv(view.R, p.mean).map((v, i) => v + view.t[i]) as Vec3;
  const Sc = mul(mul(view.R, Sigma), tr(view.R));
  const z = pc[2];
  const { fx, fy, cx, cy, width, height } = view;
  const limXPos = (width * (1 + FRUSTUM_MARGIN) - cx) / fx, limXNeg = (cx + width * FRUSTUM_MARGIN) / fx;
  const limYPos = (height * (1 + FRUSTUM_MARGIN) - cy) / fy, limYNeg = (cy + height * FRUSTUM_MARGIN) / fy;
  const u = pc[0] / z, v = pc[1] / z;
  const clampX = u > limXPos || u < -limXNeg;
  const clampY = v > limYPos || v < -limYNeg;
  const tx = z * Math.min(limXPos, Math.max(-limXNeg, u));
  const ty = z * Math.min(limYPos, Math.max(-limYNeg, v));
  const J = [fx / z, 0, (-fx * tx) / (z * z), 0, fy / z, (-fy * ty) / (z * z)];
  const cov = [0, 0, 0, 0];
  for (let a = 0; a < 2; a++)
    for (let b = 0; b < 2; b++) {
      let acc = 0;
      for (let k = 0; k < 3; k++) for (let l = 0; l < 3; l++) acc += J[a * 3 + k] * Sc[k * 3 + l] * J[b * 3 + l];
      cov[a * 2 + b] = acc;
    }
  const det0 = cov[0] * cov[3] - cov[1] * cov[2];
  const covb: [number, number, number] = [cov[0] + EPS2D, cov[1], cov[3] + EPS2D];
  const det = covb[0] * covb[2] - covb[1] * covb[1];
  const comp = Math.sqrt(Math.max(0, det0 / det));
  const conic: Vec3 = [covb[2] / det, -covb[1] / det, covb[0] / det];
  const mean2d: [number, number] = [(fx * pc[0]) / z + cx, (fy * pc[1]) / z + cy];
  const sig = sigmoid(p.logit);
  const opacity = opts.antialiased ? sig * comp : sig;
  const axis = s[0] <= s[1] && s[0] <= s[2] ? 0 : s[1] <= s[2] ? 1 : 2;
  const n: Vec3 = [Rq[axis], Rq[3 + axis], Rq[6 + axis]];
  const toCam = [view.campos[0] - p.mean[0], view.campos[1] - p.mean[1], view.campos[2] - p.mean[2]];
  const normalSign = n[0] * toCam[0] + n[1] * toCam[1] + n[2] * toCam[2] < 0 ? -1 : 1;
  const culled = !(z >= opts.near && z <= opts.far) || !(det > 0) || !(opacity >= ALPHA_MIN);
  return { culled, qn, qlen, Rq, s, M, Sigma, pc, Sc, clampX, clampY, tx, ty, J, covb, det, comp, conic, mean2d, sig, opacity, axis, normalSign };
}

function colorOf(view: RefView, p: SplatParams, degree: number) {
  const d: Vec3 = [p.mean[0] - view.campos[0], p.mean[1] - view.campos[1], p.mean[2] - view.campos[2]];
  const len = Math.hypot(d[0], d[1], d[2]);
  const dir: Vec3 = [d[0] / len, d[1] / len, d[2] / len];
  const basis = shBasis(degree, dir[0], dir[1], dir[2]);
  const raw: Vec3 = [0.5, 0.5, 0.5];
  for (let k = 0; k < basis.length; k++) for (let c = 0; c < 3; c++) raw[c] += basis[k] * p.sh[k * 3 + c];
  return { dir, len, basis, raw };
}

export function projectSplat(view: RefView, p: SplatParams, opts: ProjectOptions): Splat2D {
  const g = geometry(view, p, opts);
  const tilesX = Math.ceil(view.width / TILE_SIZE), tilesY = Math.ceil(view.height / TILE_SIZE);
  let rect: [number, number, number, number] = [0, 0, 0, 0];
  let radius = 0;
  if (!g.culled) {
    const extend = Math.sqrt(2 * Math.log(255 * g.opacity));
    const rx = Math.ceil(extend * Math.sqrt(g.covb[0]));
    const ry = Math.ceil(extend * Math.sqrt(g.covb[2]));
    const clampT = (v: number, hi: number) => Math.min(hi, Math.max(0, v));
    const r: [number, number, number, number] = [
      clampT(Math.floor((g.mean2d[0] - rx) / TILE_SIZE), tilesX),
      clampT(Math.floor((g.mean2d[1] - ry) / TILE_SIZE), tilesY),
      clampT(Math.floor((g.mean2d[0] + rx) / TILE_SIZE) + 1, tilesX),
      clampT(Math.floor((g.mean2d[1] + ry) / TILE_SIZE) + 1, tilesY),
    ];
    if (r[2] > r[0] && r[3] > r[1]) {
      rect = r;
      radius = Math.max(rx, ry);
    }
  }
  const { raw } = colorOf(view, p, opts.shDegree);
  const n = g.normalSign;
  return {
    visible: radius > 0,
    radius,
    rect,
    mean2d: g.mean2d,
    conic: g.conic,
    opacity: g.opacity,
    rgb: [Math.max(raw[0], 0), Math.max(raw[1], 0), Math.max(raw[2], 0)],
    depth: g.pc[2],
    normal: [n * g.Rq[g.axis], n * g.Rq[3 + g.axis], n * g.Rq[6 + g.axis]],
  };
}

/** VJP of projectSplat for a visible splat: gradients of the raw parameters. */
export function projectSplatBackward(view: RefView, p: SplatParams, opts: ProjectOptions, v: Grad2D): ParamGrad {
  const g = geometry(view, p, opts);
  const { fx, fy } = view;
  const z = g.pc[2];
  // Opacity: opacity = sig * (antialiased ? comp : 1).
  const vSig = v.opacity * (opts.antialiased ? g.comp : 1);
  const vComp = opts.antialiased ? v.opacity * g.sig : 0;
  const logit = vSig * g.sig * (1 - g.sig);
  // conic = inverse(covb): v_covb = -P vP P with vP = [[va, vb/2], [vb/2, vc]].
  const P = [g.conic[0], g.conic[1], g.conic[1], g.conic[2]];
  const vP = [v.conic[0], v.conic[1] / 2, v.conic[1] / 2, v.conic[2]];
  const PvP = [P[0] * vP[0] + P[1] * vP[2], P[0] * vP[1] + P[1] * vP[3], P[2] * vP[0] + P[3] * vP[2], P[2] * vP[1] + P[3] * vP[3]];
  const vCov = [
    -(PvP[0] * P[0] + PvP[1] * P[2]), -(PvP[0] * P[1] + PvP[1] * P[3]),
    -(PvP[2] * P[0] + PvP[3] * P[2]), -(PvP[2] * P[1] + PvP[3] * P[3]),
  ];
  // Compensation sqrt(det(cov) / det(cov + eps I)).
  if (vComp !== 0 && g.comp > 0) {
    const f = (0.5 * vComp) / g.comp;
    const detP = P[0] * P[3] - P[1] * P[2];
    const c2 = g.comp * g.comp;
    vCov[0] += f * ((1 - c2) * P[0] - EPS2D * detP);
    vCov[1] += f * (1 - c2) * P[1];
    vCov[2] += f * (1 - c2) * P[2];
    vCov[3] += f * ((1 - c2) * P[3] - EPS2D * detP);
  }
  // cov = J Sc J^T.
  const J = g.J;
  const vSc: Mat3 = new Array(9).fill(0);
  for (let k = 0; k < 3; k++)
    for (let l = 0; l < 3; l++) for (let a = 0; a < 2; a++) for (let b = 0; b < 2; b++) vSc[k * 3 + l] += J[a * 3 + k] * vCov[a * 2 + b] * J[b * 3 + l];
  // vJ = vCov J Sc^T + vCov^T J Sc
  const vJ = new Array(6).fill(0);
  for (let a = 0; a < 2; a++)
    for (let k = 0; k < 3; k++) {
      let acc = 0;
      for (let b = 0; b < 2; b++) for (let l = 0; l < 3; l++) acc += (vCov[a * 2 + b] + vCov[b * 2 + a]) * J[b * 3 + l] * g.Sc[k * 3 + l];
      vJ[a * 3 + k] = acc;
    }
  const vPc: Vec3 = [0, 0, 0];
  // J00 = fx/z, J11 = fy/z; J02 = -fx tx / z^2 with tx = x (free) or z*L (clamped); same for y.
  vPc[2] += (-fx / (z * z)) * vJ[0] + (-fy / (z * z)) * vJ[4];
  if (g.clampX) vPc[2] += ((fx * g.tx) / (z * z * z)) * vJ[2];
  else {
    vPc[0] += (-fx / (z * z)) * vJ[2];
    vPc[2] += ((2 * fx * g.pc[0]) / (z * z * z)) * vJ[2];
  }
  if (g.clampY) vPc[2] += ((fy * g.ty) / (z * z * z)) * vJ[5];
  else {
    vPc[1] += (-fy / (z * z)) * vJ[5];
    vPc[2] += ((2 * fy * g.pc[1]) / (z * z * z)) * vJ[5];
  }
  // mean2d and depth.
  vPc[0] += (fx / z) * v.mean2d[0];
  vPc[1] += (fy / z) * v.mean2d[1];
  vPc[2] += (-fx * g.pc[0]) / (z * z) * v.mean2d[0] + (-fy * g.pc[1]) / (z * z) * v.mean2d[1] + v.depth;
  const mean = mv(tr(view.R), vPc);
  // Sc = W Sigma W^T, Sigma = M M^T, M = Rq diag(s).
  const vSigma = mul(mul(tr(view.R), vSc), view.R);
  const vM = mul(vSigma.map((x, i) => x + vSigma[(i % 3) * 3 + Math.floor(i / 3)]), g.M);
  const vR = vM.map((x, i) => x * g.s[i % 3]);
  const logScale: Vec3 = [0, 0, 0];
  for (let j = 0; j < 3; j++) {
    let acc = 0;
    for (let i = 0; i < 3; i++) acc += g.Rq[i * 3 + j] * vM[i * 3 + j];
    logScale[j] = acc * g.s[j];
  }
  for (let i = 0; i < 3; i++) vR[i * 3 + g.axis] += g.normalSign * v.normal[i];
  const vqn = rotmatVjp(g.qn, vR);
  const dotq = vqn[0] * g.qn[0] + vqn[1] * g.qn[1] + vqn[2] * g.qn[2] + vqn[3] * g.qn[3];
  const quat = vqn.map((x, i) => (x - g.qn[i] * dotq) / g.qlen) as [number, number, number, number];
  // Colour: rgb = max(SH(dir) + 0.5, 0), dir = normalize(mean - campos).
  const col = colorOf(view, p, opts.shDegree);
  const vRaw = v.rgb.map((x, c) => (col.raw[c] >= 0 ? x : 0));
  const K = col.basis.length;
  const sh: number[] = [];
  const vDir: Vec3 = [0, 0, 0];
  const bg = shBasisGrad(opts.shDegree, col.dir[0], col.dir[1], col.dir[2]);
  for (let k = 0; k < K; k++) {
    let w = 0;
    for (let c = 0; c < 3; c++) {
      sh.push(col.basis[k] * vRaw[c]);
      w += p.sh[k * 3 + c] * vRaw[c];
    }
    for (let a = 0; a < 3; a++) vDir[a] += bg[k][a] * w;
  }
  const dd = col.dir[0] * vDir[0] + col.dir[1] * vDir[1] + col.dir[2] * vDir[2];
  for (let a = 0; a < 3; a++) mean[a] += (vDir[a] - col.dir[a] * dd) / col.len;
  return { mean, logScale, quat, logit, sh };
}
