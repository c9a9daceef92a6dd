/**
 * Plain-TypeScript reference of the consistency reward (shaders/image/consistency_reproject.wgsl,
 * shaders/image/consistency_janus.wgsl, then src/rewards/consistency-combine.ts), in f64, with
 * the image gradient of the sum of its scores. The per-pixel functions compute one record and,
 * given the cotangents of the sums, add that record's share of the gradient.
 */
import type { Camera } from '../../math/camera.ts';
import { combineConsistency, SMOOTH, type ConsistencyWeights } from '../../rewards/consistency-combine.ts';
import { neighbourPairs, oppositePairs, towardsCamera } from '../../rewards/view-graph.ts';
import type { ImageBatch } from './geometry.ts';

export type RgbBatch = ImageBatch & { rgb: ArrayLike<number> };

export interface ConsistencyParams {
  /** Occlusion tolerance on the relative depth; the occlusion sigmoid's scale is tau / 2. */
  tau: number;
  /** Alpha at which a pixel counts as half surface. */
  solid: number;
  /** Scale of the alpha sigmoid. */
  softness: number;
}

export interface ImageGrads {
  rgb: Float64Array;
  alpha: Float64Array;
  depth: Float64Array;
  normal: Float64Array;
}

export function zeroGrads(b: ImageBatch): ImageGrads {
  const n = b.views * b.width * b.height;
  return { rgb: new Float64Array(n * 3), alpha: new Float64Array(n), depth: new Float64Array(n), normal: new Float64Array(n * 3) };
}

const sigmoid = (x: number) => 1 / (1 + Math.exp(-Math.max(-60, Math.min(60, x))));
const D = SMOOTH.charbonnier;
const charb = (x: number) => Math.sqrt(x * x + D * D) - D;
const charbGrad = (x: number) => x / Math.sqrt(x * x + D * D);
/** smoothstep(0, 1, t) and its derivative. */
const fade = (t: number) => {
  const c = Math.min(Math.max(t, 0), 1);
  return { s: c * c * (3 - 2 * c), d: 6 * c * (1 - c) };
};

type V3 = [number, number, number];
const rotRow = (c: Camera, r: number): V3 => [c.viewmat[4 * r], c.viewmat[4 * r + 1], c.viewmat[4 * r + 2]];
const trans = (c: Camera): V3 => [c.viewmat[3], c.viewmat[7], c.viewmat[11]];
const dot = (a: V3, b: V3) => a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
/** R^T v for the rotation of camera c (camera frame to world). */
const toWorld = (c: Camera, v: V3): V3 => [0, 1, 2].map((a) => v[0] * rotRow(c, 0)[a] + v[1] * rotRow(c, 1)[a] + v[2] * rotRow(c, 2)[a]) as V3;
const toCam = (c: Camera, w: V3): V3 => [0, 1, 2].map((r) => dot(rotRow(c, r), w)) as V3;

/**
 * One reprojection record of source pixel (x, y) of view i into view j:
 * [Ep, Np, Eg, Ng] = a_i * [ws * ep, ws, ws * eg + (1 - a_j), ws + (1 - a_j)], ws = a_j * vis,
 * a_i = the source's alpha sigmoid times a fade over the outermost pixel of j's frame; or
 * null when skipped (source alpha at most alphaMin, behind camera j, or outside j's frame).
 * With `coef` (d total / d [Ep, Np, Eg, Ng]) adds the record's gradient to `g`.
 */
export function reprojectPixelRef(b: RgbBatch, i: number, j: number, x: number, y: number, p: ConsistencyParams, coef?: ArrayLike<number>, g?: ImageGrads): number[] | null {
  const { width: W, height: H } = b;
  const ci = b.cameras[i];
  const cj = b.cameras[j];
  const src = (i * H + y) * W + x;
  const o = b.alpha[src];
  if (!(o > SMOOTH.alphaMin)) return null;
  const aSrc = sigmoid((o - p.solid) / p.softness);
  const z = b.depth[src] / o;
  // q = z * dir + q0: the source point in j's camera frame.
  const ray: V3 = [(x + 0.5 - ci.cx) / ci.fx, (y + 0.5 - ci.cy) / ci.fy, 1];
  const dir = toCam(cj, toWorld(ci, ray));
  const ti = trans(ci);
  const tj = trans(cj);
  const q0 = toCam(cj, toWorld(ci, [-ti[0], -ti[1], -ti[2]])).map((c, r) => c + tj[r]) as V3;
  const q = q0.map((c, r) => c + z * dir[r]) as V3;
  if (!(q[2] > 1e-6)) return null;
  // Pixel centres sit at integer + 0.5: u, v are coordinates on the grid of centres.
  const u = (cj.fx * q[0]) / q[2] + cj.cx - 0.5;
  const v = (cj.fy * q[1]) / q[2] + cj.cy - 0.5;
  if (!(u >= 0 && v >= 0 && u <= W - 1 && v <= H - 1)) return null;
  // The weight fades to 0 over the outermost pixel of j's frame, so leaving the frame is smooth.
  const [f0, f1, f2, f3] = [u, W - 1 - u, v, H - 1 - v].map(fade);
  const frame = f0.s * f1.s * f2.s * f3.s;
  const ai = frame * aSrc;
  const x0 = Math.floor(u);
  const y0 = Math.floor(v);
  const fu = u - x0;
  const fv = v - y0;
  const x1 = Math.min(x0 + 1, W - 1);
  const y1 = Math.min(y0 + 1, H - 1);
  const taps = [(j * H + y0) * W + x0, (j * H + y0) * W + x1, (j * H + y1) * W + x0, (j * H + y1) * W + x1];
  const bw = [(1 - fu) * (1 - fv), fu * (1 - fv), (1 - fu) * fv, fu * fv];
  const lerp = (s: number[]) => s.reduce((a, c, t) => a + bw[t] * c, 0);
  const tapsOf = (arr: ArrayLike<number>, ch = 1, c = 0) => taps.map((t) => arr[t * ch + c]);
  const oj = lerp(tapsOf(b.alpha));
  const dj = lerp(tapsOf(b.depth));
  const cjs = [0, 1, 2].map((c) => lerp(tapsOf(b.rgb, 3, c)));
  const cis = [0, 1, 2].map((c) => b.rgb[src * 3 + c]);
  const aj = sigmoid((oj - p.solid) / p.softness);
  const ojm = Math.max(oj, SMOOTH.alphaMin);
  const zj = dj / ojm;
  const rel = 1 - zj / q[2];
  const hs = p.tau / 2;
  const vis = sigmoid((p.tau - rel) / hs);
  const ws = aj * vis;
  const eg = 1 - Math.exp(-charb(rel));
  const ep = (charb(cis[0] - cjs[0]) + charb(cis[1] - cjs[1]) + charb(cis[2] - cjs[2])) / 3;
  const rec = [ai * ws * ep, ai * ws, ai * (ws * eg + 1 - aj), ai * (ws + 1 - aj)];
  if (!coef || !g) return rec;

  const [gEp, gNp, gEg, gNg] = [coef[0], coef[1], coef[2], coef[3]];
  // total = ai * (ws * A + (1 - aj) * B)
  const A = gEp * ep + gNp + gEg * eg + gNg;
  const B = gEg + gNg;
  const dAi = ws * A + (1 - aj) * B;
  const dAj = ai * (vis * A - B);
  const dVis = ai * aj * A;
  const dEp = ai * ws * gEp;
  const dEg = ai * ws * gEg;
  let dO = (dAi * frame * aSrc * (1 - aSrc)) / p.softness;
  // Colours.
  const dCj = [0, 0, 0];
  for (let c = 0; c < 3; c++) {
    const t = (dEp * charbGrad(cis[c] - cjs[c])) / 3;
    g.rgb[src * 3 + c] += t;
    dCj[c] = -t;
  }
  // Relative depth: through the geometric error and the occlusion weight.
  const dRel = dEg * Math.exp(-charb(rel)) * charbGrad(rel) - (dVis * vis * (1 - vis)) / hs;
  const dZj = -dRel / q[2];
  let dqz = (dRel * zj) / (q[2] * q[2]);
  const dDj = dZj / ojm;
  let dOj = dAj * aj * (1 - aj) / p.softness + (oj > SMOOTH.alphaMin ? (-dZj * dj) / (oj * oj) : 0);
  // Taps, and the reprojected position through the bilinear weights.
  const sampled: [ArrayLike<number>, number, number, number][] = [[b.alpha, 1, 0, dOj], [b.depth, 1, 0, dDj], [b.rgb, 3, 0, dCj[0]], [b.rgb, 3, 1, dCj[1]], [b.rgb, 3, 2, dCj[2]]];
  let du = dAi * aSrc * (f0.d * f1.s - f0.s * f1.d) * f2.s * f3.s;
  let dv = dAi * aSrc * f0.s * f1.s * (f2.d * f3.s - f2.s * f3.d);
  for (const [arr, ch, c, d] of sampled) {
    const s = tapsOf(arr, ch, c);
    du += d * ((1 - fv) * (s[1] - s[0]) + fv * (s[3] - s[2]));
    dv += d * ((1 - fu) * (s[2] - s[0]) + fu * (s[3] - s[1]));
  }
  taps.forEach((t, k) => {
    g.alpha[t] += bw[k] * dOj;
    g.depth[t] += bw[k] * dDj;
    for (let c = 0; c < 3; c++) g.rgb[t * 3 + c] += bw[k] * dCj[c];
  });
  const dqx = (du * cj.fx) / q[2];
  const dqy = (dv * cj.fy) / q[2];
  dqz -= (du * cj.fx * q[0] + dv * cj.fy * q[1]) / (q[2] * q[2]);
  // Source depth: z = depth / alpha moves q along dir.
  const dz = dqx * dir[0] + dqy * dir[1] + dqz * dir[2];
  g.depth[src] += dz / o;
  dO -= (dz * b.depth[src]) / (o * o);
  g.alpha[src] += dO;
  return rec;
}

/** Records [pair][pixel][4] of every (view, neighbour) pair; with coefs (4 per pair) also accumulates the gradient into g. */
export function reprojectRef(b: RgbBatch, pairs: [number, number][], p: ConsistencyParams, coefs?: ArrayLike<number>, g?: ImageGrads): Float64Array {
  const per = b.width * b.height;
  const out = new Float64Array(pairs.length * per * 4);
  pairs.forEach(([i, j], k) => {
    const coef = coefs ? Array.from({ length: 4 }, (_, q) => coefs[k * 4 + q]) : undefined;
    for (let y = 0; y < b.height; y++)
      for (let x = 0; x < b.width; x++) {
        const r = reprojectPixelRef(b, i, j, x, y, p, coef, g);
        if (r) out.set(r, (k * per + y * b.width + x) * 4);
      }
  });
  return out;
}

/** Weight of a pixel in the Janus correlation: surface (alpha sigmoid) facing away from the other camera (normal sigmoid). */
function hiddenWeight(b: ImageBatch, px: number, towardsOther: V3, p: ConsistencyParams) {
  const sa = sigmoid((b.alpha[px] - p.solid) / p.softness);
  const n: V3 = [b.normal[px * 3], b.normal[px * 3 + 1], b.normal[px * 3 + 2]];
  const sf = sigmoid(-dot(n, towardsOther) / SMOOTH.facingScale);
  return {
    m: sa * sf,
    dAlpha: (sa * (1 - sa) * sf) / p.softness,
    dNormal: towardsOther.map((d) => (-sa * sf * (1 - sf) * d) / SMOOTH.facingScale) as V3,
  };
}

function chroma(b: RgbBatch, px: number): { c: V3; s: number } {
  const k = SMOOTH.chromaOffset;
  const rgb = [b.rgb[px * 3], b.rgb[px * 3 + 1], b.rgb[px * 3 + 2]];
  const s = rgb[0] + rgb[1] + rgb[2] + 3 * k;
  return { c: rgb.map((x) => (x + k) / s) as V3, s };
}

/**
 * 16 sums per opposite pair (a, b): [n, sa, sb, saa, sbb, sab, sc, 0] over pixels x of a with
 * weight m_a(x) m_b(x'), x' = x (as is) and then x' mirrored horizontally; with coefs (16 per
 * pair) also accumulates the gradient into g. dirs: unit vectors from the scene to each camera.
 */
export function janusRef(b: RgbBatch, pairs: [number, number][], p: ConsistencyParams, dirs: V3[], coefs?: ArrayLike<number>, g?: ImageGrads): Float64Array {
  const { width: W, height: H } = b;
  const out = new Float64Array(pairs.length * 16);
  const pix = (v: number, x: number, y: number) => (v * H + y) * W + x;
  const grey = (px: number) => (b.rgb[px * 3] + b.rgb[px * 3 + 1] + b.rgb[px * 3 + 2]) / 3;
  pairs.forEach(([a, c], k) => {
    for (let y = 0; y < H; y++)
      for (let x = 0; x < W; x++) {
        const pa = pix(a, x, y);
        const ma = hiddenWeight(b, pa, dirs[c], p);
        const ga = grey(pa);
        const ca = chroma(b, pa);
        let dMa = 0;
        const dCa = [0, 0, 0];
        for (const [xb, off] of [[x, 0], [W - 1 - x, 8]]) {
          const pb = pix(c, xb, y);
          const mb = hiddenWeight(b, pb, dirs[a], p);
          const gb = grey(pb);
          const cb = chroma(b, pb);
          const e = [0, 1, 2].map((q) => charbGrad(ca.c[q] - cb.c[q]));
          const chi = charb(ca.c[0] - cb.c[0]) + charb(ca.c[1] - cb.c[1]) + charb(ca.c[2] - cb.c[2]);
          const w = ma.m * mb.m;
          const s = [1, ga, gb, ga * ga, gb * gb, ga * gb, chi];
          for (let q = 0; q < 7; q++) out[k * 16 + off + q] += w * s[q];
          if (!coefs || !g) continue;
          const gs = Array.from({ length: 7 }, (_, q) => coefs[k * 16 + off + q]);
          const dW = s.reduce((acc, v, q) => acc + gs[q] * v, 0);
          const dGa = w * (gs[1] + 2 * gs[3] * ga + gs[5] * gb);
          const dGb = w * (gs[2] + 2 * gs[4] * gb + gs[5] * ga);
          const dChi = w * gs[6];
          dMa += dW * mb.m;
          const dMb = dW * ma.m;
          g.alpha[pb] += dMb * mb.dAlpha;
          // chromaticity c_q = (C_q + k) / S: d c_q / d C_r = (delta_qr - c_q) / S.
          const eca = e[0] * ca.c[0] + e[1] * ca.c[1] + e[2] * ca.c[2];
          const ecb = e[0] * cb.c[0] + e[1] * cb.c[1] + e[2] * cb.c[2];
          for (let q = 0; q < 3; q++) {
            g.normal[pb * 3 + q] += dMb * mb.dNormal[q];
            dCa[q] += dGa / 3 + (dChi * (e[q] - eca)) / ca.s;
            g.rgb[pb * 3 + q] += dGb / 3 - (dChi * (e[q] - ecb)) / cb.s;
          }
        }
        if (!coefs || !g) continue;
        g.alpha[pa] += dMa * ma.dAlpha;
        for (let q = 0; q < 3; q++) {
          g.normal[pa * 3 + q] += dMa * ma.dNormal[q];
          g.rgb[pa * 3 + q] += dCa[q];
        }
      }
  });
  return out;
}

export interface ConsistencyRefOptions extends ConsistencyParams, ConsistencyWeights {
  neighbours: number;
  janusMinAngle: number;
}

/**
 * Scores, details and d(sum_v viewWeights[v] * score_v)/d(images) of a batch (the plain sum of
 * scores without weights), as the plugin computes them.
 */
export function consistencyRef(b: RgbBatch, o: ConsistencyRefOptions, viewWeights?: ArrayLike<number>) {
  const V = b.views;
  const per = b.width * b.height;
  const pairs = neighbourPairs(b.cameras, Math.min(o.neighbours, V - 1));
  const opposite = oppositePairs(b.cameras, o.janusMinAngle);
  const dirs = b.cameras.map((c) => towardsCamera(c) as V3);
  const records = reprojectRef(b, pairs, o);
  const sums = new Float64Array(pairs.length * 4);
  for (let k = 0; k < pairs.length; k++) for (let i = 0; i < per; i++) for (let c = 0; c < 4; c++) sums[k * 4 + c] += records[(k * per + i) * 4 + c];
  const janusSums = janusRef(b, opposite, o, dirs);
  const combined = combineConsistency(V, pairs, sums, opposite, janusSums, o, viewWeights);
  const grads = zeroGrads(b);
  reprojectRef(b, pairs, o, combined.reprojectCoefs, grads);
  janusRef(b, opposite, o, dirs, combined.janusCoefs, grads);
  return { ...combined, pairs, opposite, records, sums, janusSums, grads };
}
