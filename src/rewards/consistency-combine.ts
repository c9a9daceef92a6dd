/**
 * The scalar end of the consistency reward, shared by the plugin (on sums read back from the
 * GPU) and its reference: from per-pair sums to per-view scores, and the cotangents
 * d(sum of scores)/d(each sum) that the backward kernels spread over the pixels.
 *   reprojection sums per (view i, neighbour j): [Ep, Np, Eg, Ng], weighted error and weight
 *     sums of the photometric and geometric terms; pair error = E / max(N, 1).
 *   Janus sums per unordered pair of opposite views (a, b), twice (b as is, b mirrored):
 *     [n, sa, sb, saa, sbb, sab, sc, 0], weighted moments of grey values and the weighted
 *     chromaticity difference; similarity = smoothRelu(NCC) * overlap gate * chroma damping.
 * Per view: score_i = -(wP * mean photometric + wG * mean geometric + wJ * soft max of its
 * Janus similarities).
 */

/** Constants of the smooth terms; shaders/image/consistency_*.wgsl and lib/smooth.wgsl hold the same values. */
export const SMOOTH = {
  /** Source pixels with less alpha are skipped; a neighbour's depth divides by at least this. */
  alphaMin: 0.01,
  /** Charbonnier rounding of |x| (colour and relative depth units). */
  charbonnier: 1e-3,
  /** Scale of the sigmoid on N . d that says a surface faces away from the other camera. */
  facingScale: 0.02,
  /** Offset of the chromaticity (c + k) / (sum c + 3k), so black has a defined hue. */
  chromaOffset: 0.02,
  /** Overlap (weighted pixel count) at which the Janus gate reaches 1/2. */
  janusMinCount: 16,
  /** Added to both grey variances, so a flat image correlates with nothing. */
  janusVarianceFloor: 1e-4,
  /** Chromaticity L1 at which the Janus damping is exp(-1). */
  janusChromaScale: 0.1,
  /** Rounding of max(0, NCC). */
  janusReluSmoothing: 0.02,
  /** Temperature of the soft max over a view's Janus similarities. */
  janusTemperature: 0.05,
} as const;

export interface ConsistencyWeights {
  photometric: number;
  geometric: number;
  janus: number;
}

export interface Combined {
  scores: Float64Array;
  details: { photometric: number; geometric: number; janus: number };
  /** d(sum of weighted scores)/d(reprojection sums), 4 per pair. */
  reprojectCoefs: Float64Array;
  /** d(sum of weighted scores)/d(Janus sums), 16 per opposite pair. */
  janusCoefs: Float64Array;
}

/** Janus similarity of one variant from its seven sums (at `o`), and its gradient w.r.t. them. */
export function janusSimilarity(s: ArrayLike<number>, o = 0): { sim: number; grad: number[] } {
  const grad = [0, 0, 0, 0, 0, 0, 0];
  const [n, sa, sb, saa, sbb, sab, sc] = Array.from({ length: 7 }, (_, q) => s[o + q]);
  if (!(n > 1e-9)) return { sim: 0, grad };
  const ma = sa / n;
  const mb = sb / n;
  const A = saa / n - ma * ma + SMOOTH.janusVarianceFloor;
  const B = sbb / n - mb * mb + SMOOTH.janusVarianceFloor;
  const cov = sab / n - ma * mb;
  const den = Math.sqrt(A * B);
  const ncc = cov / den;
  const d = SMOOTH.janusReluSmoothing;
  const root = Math.sqrt(ncc * ncc + d * d);
  const relu = (ncc + root) / 2;
  const m2 = SMOOTH.janusMinCount ** 2;
  const gate = (n * n) / (n * n + m2);
  const L = sc / n;
  const c = SMOOTH.janusChromaScale;
  const damp = Math.exp(-((L / c) ** 2));
  const sim = relu * gate * damp;
  // Chain rule through ncc(cov, A, B), the gate and the damping.
  const dNcc = ((1 + ncc / root) / 2) * gate * damp;
  const dCov = dNcc / den;
  const dA = (-dNcc * ncc) / (2 * A);
  const dB = (-dNcc * ncc) / (2 * B);
  const dL = relu * gate * damp * ((-2 * L) / (c * c));
  grad[0] =
    dCov * ((-sab / n + 2 * ma * mb) / n) +
    dA * ((-saa / n + 2 * ma * ma) / n) +
    dB * ((-sbb / n + 2 * mb * mb) / n) +
    relu * damp * ((2 * n * m2) / (n * n + m2) ** 2) +
    dL * (-L / n);
  grad[1] = (dCov * -mb + dA * -2 * ma) / n;
  grad[2] = (dCov * -ma + dB * -2 * mb) / n;
  grad[3] = dA / n;
  grad[4] = dB / n;
  grad[5] = dCov / n;
  grad[6] = dL / n;
  return { sim, grad };
}

/**
 * Per-view scores and the cotangents of the sums for the objective sum_v viewWeights[v] *
 * score_v (all ones when not given: the plain sum of scores).
 */
export function combineConsistency(
  views: number,
  pairs: [number, number][],
  reprojectSums: ArrayLike<number>,
  opposite: [number, number][],
  janusSums: ArrayLike<number>,
  w: ConsistencyWeights,
  viewWeights?: ArrayLike<number>,
): Combined {
  const V = views;
  const weightOf = (v: number) => (viewWeights ? viewWeights[v] : 1);
  const photo = new Float64Array(V);
  const geo = new Float64Array(V);
  const pairsOf = new Float64Array(V);
  for (const [i] of pairs) pairsOf[i] += 1;
  const reprojectCoefs = new Float64Array(pairs.length * 4);
  pairs.forEach(([i], k) => {
    const [ep, np, eg, ng] = [0, 1, 2, 3].map((q) => reprojectSums[k * 4 + q]);
    photo[i] += ep / Math.max(np, 1) / pairsOf[i];
    geo[i] += eg / Math.max(ng, 1) / pairsOf[i];
    // score_i = -(wP * mean_k Ep/max(Np, 1) + wG * mean_k Eg/max(Ng, 1)).
    const sp = (-w.photometric * weightOf(i)) / pairsOf[i];
    const sg = (-w.geometric * weightOf(i)) / pairsOf[i];
    reprojectCoefs.set([sp / Math.max(np, 1), np > 1 ? (-sp * ep) / (np * np) : 0, sg / Math.max(ng, 1), ng > 1 ? (-sg * eg) / (ng * ng) : 0], k * 4);
  });

  // Soft max of each view's similarities (both variants of each opposite pair it is in; the
  // similarity is symmetric, so each unordered pair is measured once and counts for both views).
  const sims = opposite.flatMap((_, k) => [janusSimilarity(janusSums, k * 16), janusSimilarity(janusSums, k * 16 + 8)]);
  const janus = new Float64Array(V);
  const janusCoefs = new Float64Array(opposite.length * 16);
  const T = SMOOTH.janusTemperature;
  for (let v = 0; v < V; v++) {
    const mine = sims.map((s, q) => ({ s, q })).filter(({ q }) => opposite[q >> 1].includes(v));
    if (!mine.length) continue;
    const top = Math.max(...mine.map((m) => m.s.sim));
    const e = mine.map((m) => Math.exp((m.s.sim - top) / T));
    const z = e.reduce((a, b) => a + b, 0);
    const J = mine.reduce((a, m, q) => a + (e[q] / z) * m.s.sim, 0);
    janus[v] = J;
    mine.forEach((m, q) => {
      // d J / d sim_q = p_q (1 + (sim_q - J) / T) for the softmax-weighted mean J.
      const dSim = -w.janus * weightOf(v) * (e[q] / z) * (1 + (m.s.sim - J) / T);
      for (let c = 0; c < 7; c++) janusCoefs[m.q * 8 + c] += dSim * m.s.grad[c];
    });
  }

  const scores = new Float64Array(V);
  let mp = 0, mg = 0, mj = 0;
  for (let v = 0; v < V; v++) {
    scores[v] = -(w.photometric * photo[v] + w.geometric * geo[v] + w.janus * janus[v]);
    mp += photo[v] / V;
    mg += geo[v] / V;
    mj += janus[v] / V;
  }
  return { scores, details: { photometric: mp, geometric: mg, janus: mj }, reprojectCoefs, janusCoefs };
}
