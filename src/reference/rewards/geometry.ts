/**
 * Plain-TypeScript reference of the geometry reward (shaders/image/geometry.wgsl and
 * shaders/image/splat_plausibility.wgsl), in f64, with the image gradient of its score.
 */
import type { Camera } from '../../math/camera.ts';

export interface ImageBatch {
  views: number;
  width: number;
  height: number;
  cameras: Camera[];
  rgb?: ArrayLike<number>;
  alpha: ArrayLike<number>;
  depth: ArrayLike<number>;
  normal: ArrayLike<number>;
}

export interface GeometryImageWeights {
  entropy: number;
  normal: number;
}

const SOLID = 0.5;
const CLAMP = 1e-3;

export function entropyRef(o: number): number {
  const c = Math.min(Math.max(o, CLAMP), 1 - CLAMP);
  return -(c * Math.log(c) + (1 - c) * Math.log(1 - c));
}

function entropyGradRef(o: number): number {
  return o <= CLAMP || o >= 1 - CLAMP ? 0 : Math.log((1 - o) / o);
}

type V3 = [number, number, number];
const sub = (a: V3, b: V3): V3 => [a[0] - b[0], a[1] - b[1], a[2] - b[2]];
const dot = (a: V3, b: V3) => a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
const cross = (a: V3, b: V3): V3 => [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]];
const scale = (a: V3, s: number): V3 => [a[0] * s, a[1] * s, a[2] * s];

/** Per-view image terms and the gradient of sum_v score_v, score_v = -(wE * entropy_v + wN * normalInconsistency_v). */
export function geometryImageRef(b: ImageBatch, w: GeometryImageWeights) {
  const { views: V, width: W, height: H } = b;
  const P = W * H;
  const idx = (v: number, x: number, y: number) => (v * H + y) * W + x;
  const inside = (x: number, y: number) => x >= 0 && y >= 0 && x < W && y < H;
  const entropy = new Float64Array(V);
  const inconsistency = new Float64Array(V);
  const count = new Float64Array(V);
  const scores = new Float64Array(V);
  const dAlpha = new Float64Array(V * P);
  const dDepth = new Float64Array(V * P);
  const dNormal = new Float64Array(V * P * 3);
  const gz = new Float64Array(V * P * 4);
  const mask = new Uint8Array(V * P);
  const nTilde = new Float64Array(V * P * 3);
  for (let v = 0; v < V; v++) {
    const cam = b.cameras[v];
    const R = [0, 1, 2].map((r) => [cam.viewmat[4 * r], cam.viewmat[4 * r + 1], cam.viewmat[4 * r + 2]] as V3);
    const ray = (x: number, y: number): V3 => [(x + 0.5 - cam.cx) / cam.fx, (y + 0.5 - cam.cy) / cam.fy, 1];
    const solid = (x: number, y: number) => inside(x, y) && b.alpha[idx(v, x, y)] > SOLID;
    const point = (x: number, y: number) => scale(ray(x, y), b.depth[idx(v, x, y)] / b.alpha[idx(v, x, y)]);
    for (let y = 0; y < H; y++)
      for (let x = 0; x < W; x++) {
        const i = idx(v, x, y);
        entropy[v] += entropyRef(b.alpha[i]);
        if (!(solid(x, y) && solid(x + 1, y) && solid(x - 1, y) && solid(x, y + 1) && solid(x, y - 1))) continue;
        const pa = sub(point(x, y + 1), point(x, y - 1));
        const pb = sub(point(x + 1, y), point(x - 1, y));
        const c = cross(pa, pb);
        const len = Math.hypot(...c);
        if (len <= 1e-12) continue;
        const nt = scale(c, 1 / len);
        const nw: V3 = [b.normal[i * 3], b.normal[i * 3 + 1], b.normal[i * 3 + 2]];
        const nc: V3 = [dot(R[0], nw), dot(R[1], nw), dot(R[2], nw)];
        mask[i] = 1;
        count[v] += 1;
        inconsistency[v] += b.alpha[i] - dot(nc, nt);
        const gc = scale(sub(nc, scale(nt, dot(nt, nc))), -1 / len);
        gz.set([dot(gc, cross(ray(x, y + 1), pb)), -dot(gc, cross(ray(x, y - 1), pb)), dot(gc, cross(pa, ray(x + 1, y))), -dot(gc, cross(pa, ray(x - 1, y)))], i * 4);
        for (let k = 0; k < 3; k++) nTilde[i * 3 + k] = nt[0] * R[0][k] + nt[1] * R[1][k] + nt[2] * R[2][k];
      }
    entropy[v] /= P;
    inconsistency[v] /= Math.max(count[v], 1);
    scores[v] = -(w.entropy * entropy[v] + w.normal * inconsistency[v]);
  }
  for (let v = 0; v < V; v++) {
    const se = -w.entropy / P;
    const sn = -w.normal / Math.max(count[v], 1);
    for (let y = 0; y < H; y++)
      for (let x = 0; x < W; x++) {
        const i = idx(v, x, y);
        let dz = 0;
        if (inside(x, y - 1)) dz += gz[idx(v, x, y - 1) * 4];
        if (inside(x, y + 1)) dz += gz[idx(v, x, y + 1) * 4 + 1];
        if (inside(x - 1, y)) dz += gz[idx(v, x - 1, y) * 4 + 2];
        if (inside(x + 1, y)) dz += gz[idx(v, x + 1, y) * 4 + 3];
        const o = b.alpha[i];
        dAlpha[i] = se * entropyGradRef(o) + sn * mask[i];
        if (o > 0) {
          dAlpha[i] += sn * (-dz * b.depth[i]) / (o * o);
          dDepth[i] = (sn * dz) / o;
        }
        for (let k = 0; k < 3; k++) dNormal[i * 3 + k] = -sn * nTilde[i * 3 + k];
      }
  }
  return { scores, entropy, inconsistency, count, grads: { alpha: dAlpha, depth: dDepth, normal: dNormal } };
}

export interface SplatArrays {
  means: ArrayLike<number>;
  logScales: ArrayLike<number>;
  opacityLogits: ArrayLike<number>;
}

/** Opacity-weighted anisotropy penalty and floater fraction of the splats against the batch's alpha. */
export function splatPlausibilityRef(s: SplatArrays, b: ImageBatch, ratio: number, tau: number) {
  const n = s.opacityLogits.length;
  let so = 0;
  let sa = 0;
  let sf = 0;
  for (let i = 0; i < n; i++) {
    const o = 1 / (1 + Math.exp(-s.opacityLogits[i]));
    const sc = [0, 1, 2].map((k) => Math.exp(s.logScales[i * 3 + k]));
    const r = Math.max(...sc) / Math.max(Math.min(...sc), 1e-12);
    const p: V3 = [s.means[i * 3], s.means[i * 3 + 1], s.means[i * 3 + 2]];
    let seen = false;
    let outside = false;
    b.cameras.forEach((cam, v) => {
      const m = cam.viewmat;
      const q = [0, 1, 2].map((r) => m[4 * r] * p[0] + m[4 * r + 1] * p[1] + m[4 * r + 2] * p[2] + m[4 * r + 3]);
      if (q[2] <= 1e-6) return;
      const u = Math.floor((cam.fx * q[0]) / q[2] + cam.cx);
      const w = Math.floor((cam.fy * q[1]) / q[2] + cam.cy);
      if (u < 0 || w < 0 || u >= b.width || w >= b.height) return;
      seen = true;
      if (b.alpha[(v * b.height + w) * b.width + u] < tau) outside = true;
    });
    so += o;
    sa += o * (Math.max(r, ratio) - ratio);
    sf += outside || !seen ? o : 0;
  }
  return { anisotropy: sa / Math.max(so, 1e-12), floaters: sf / Math.max(so, 1e-12) };
}
