/** Plain-TypeScript reference of shaders/image/consistency.wgsl (reprojection records and Janus sums). */
import type { ImageBatch } from './geometry.ts';

export function reprojectRef(b: ImageBatch & { rgb: ArrayLike<number> }, pairs: [number, number][], tau: number, solid: number): Float64Array {
  const { width: W, height: H } = b;
  const per = W * H;
  const out = new Float64Array(pairs.length * per * 4);
  const pix = (v: number, x: number, y: number) => (v * H + y) * W + x;
  pairs.forEach(([i, j], k) => {
    const ci = b.cameras[i];
    const cj = b.cameras[j];
    const R = (m: ArrayLike<number>, r: number) => [m[4 * r], m[4 * r + 1], m[4 * r + 2]];
    const t = (m: ArrayLike<number>) => [m[3], m[7], m[11]];
    for (let y = 0; y < H; y++)
      for (let x = 0; x < W; x++) {
        const pi = pix(i, x, y);
        const o = b.alpha[pi];
        if (!(o > solid)) continue;
        const z = b.depth[pi] / o;
        const pc = [(z * (x + 0.5 - ci.cx)) / ci.fx, (z * (y + 0.5 - ci.cy)) / ci.fy, z];
        const ti = t(ci.viewmat);
        const d = pc.map((c, a) => c - ti[a]);
        const pw = [0, 1, 2].map((a) => d[0] * R(ci.viewmat, 0)[a] + d[1] * R(ci.viewmat, 1)[a] + d[2] * R(ci.viewmat, 2)[a]);
        const tj = t(cj.viewmat);
        const q = [0, 1, 2].map((r) => R(cj.viewmat, r).reduce((s, m, a) => s + m * pw[a], 0) + tj[r]);
        if (!(q[2] > 1e-6)) continue;
        const u = Math.floor((cj.fx * q[0]) / q[2] + cj.cx);
        const w = Math.floor((cj.fy * q[1]) / q[2] + cj.cy);
        if (u < 0 || w < 0 || u >= W || w >= H) continue;
        const pj = pix(j, u, w);
        const o4 = (k * per + y * W + x) * 4;
        const oj = b.alpha[pj];
        if (!(oj > solid)) {
          out[o4 + 2] = 1;
          out[o4 + 3] = 1;
          continue;
        }
        const rel = (q[2] - b.depth[pj] / oj) / q[2];
        if (rel > tau) continue;
        let dc = 0;
        for (let c = 0; c < 3; c++) dc += Math.abs(b.rgb[pi * 3 + c] - b.rgb[pj * 3 + c]);
        out.set([dc / 3, 1, Math.min(Math.abs(rel), 1), 1], o4);
      }
  });
  return out;
}

/** 16 sums per pair: [n, sa, sb, saa, sbb, sab, chromaticity L1, 0] as is, then with the second view flipped horizontally;
 * only pixels whose surface faces away from the other view (dirs: unit vectors towards each camera). */
export function janusSumsRef(b: ImageBatch & { rgb: ArrayLike<number> }, pairs: [number, number][], solid: number, dirs: number[][]): Float64Array {
  const { width: W, height: H } = b;
  const out = new Float64Array(pairs.length * 16);
  const pix = (v: number, x: number, y: number) => (v * H + y) * W + x;
  const chroma = (v: number, x: number, y: number) => {
    const p = pix(v, x, y) * 3;
    const c = [b.rgb[p], b.rgb[p + 1], b.rgb[p + 2]];
    const s = c[0] + c[1] + c[2] + 0.06;
    return c.map((q) => (q + 0.02) / s);
  };
  const grey = (v: number, x: number, y: number) => {
    const p = pix(v, x, y) * 3;
    return (b.rgb[p] + b.rgb[p + 1] + b.rgb[p + 2]) / 3;
  };
  const hidden = (v: number, x: number, y: number, other: number) => {
    const p = pix(v, x, y);
    const d = dirs[other];
    return b.alpha[p] > solid && b.normal[p * 3] * d[0] + b.normal[p * 3 + 1] * d[1] + b.normal[p * 3 + 2] * d[2] < 0;
  };
  pairs.forEach(([a, c], k) => {
    for (let y = 0; y < H; y++)
      for (let x = 0; x < W; x++) {
        if (!hidden(a, x, y, c)) continue;
        const ga = grey(a, x, y);
        for (const [xb, off] of [[x, 0], [W - 1 - x, 8]]) {
          if (!hidden(c, xb, y, a)) continue;
          const gb = grey(c, xb, y);
          const ca = chroma(a, x, y);
          const cb = chroma(c, xb, y);
          const l1 = Math.abs(ca[0] - cb[0]) + Math.abs(ca[1] - cb[1]) + Math.abs(ca[2] - cb[2]);
          const s = [1, ga, gb, ga * ga, gb * gb, ga * gb, l1];
          for (let q = 0; q < 7; q++) out[k * 16 + off + q] += s[q];
        }
      }
  });
  return out;
}

/**
 * Janus similarity of one variant from its seven sums: the grey normalised cross-correlation
 * (0 when either side is flat or the overlap is small), damped when the chromaticities differ.
 */
export function janusSimilarity(s: ArrayLike<number>, offset = 0, chromaTolerance = 0.15): number {
  const n = s[offset];
  if (n <= 0) return 0;
  const chromaL1 = s[offset + 6] / n;
  return Math.max(0, nccFromSums(s, offset)) * Math.max(0, 1 - chromaL1 / chromaTolerance);
}

/** Normalised cross-correlation from the first six sums; 0 when either side is flat or the overlap is small. */
export function nccFromSums(s: ArrayLike<number>, offset = 0, minCount = 16): number {
  const [n, sa, sb, saa, sbb, sab] = Array.from({ length: 6 }, (_, q) => s[offset + q]);
  if (n < minCount) return 0;
  const va = saa / n - (sa / n) ** 2;
  const vb = sbb / n - (sb / n) ** 2;
  if (va < 1e-5 || vb < 1e-5) return 0;
  return (sab / n - (sa / n) * (sb / n)) / Math.sqrt(va * vb);
}
