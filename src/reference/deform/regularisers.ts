/**
 * References of the deformation regularisers, each a loss and its gradient:
 * - temporal smoothness: mean over splats of |m(t+dt) - 2 m(t) + m(t-dt)|^2 (deformed means);
 * - plane total variation: for every plane and level, the mean squared first difference along
 *   each of its two axes, summed over planes (4DGS's PlaneTV);
 * - local rigidity: (1 / (N k)) sum_i sum_{j in knn(i)} w_ij (|m'_j - m'_i| - |m_j - m_i|)^2,
 *   which keeps distances to canonical neighbours (rigid motion costs nothing).
 */
import type { HexPlaneLayout } from '../../scene/deform/hexplane-layout.ts';

type Num = ArrayLike<number>;

export function temporalSmoothnessRef(prev: Num, cur: Num, next: Num) {
  const n = cur.length / 3;
  const dPrev = new Float64Array(cur.length);
  const dCur = new Float64Array(cur.length);
  const dNext = new Float64Array(cur.length);
  let loss = 0;
  for (let e = 0; e < cur.length; e++) {
    const a = next[e] - 2 * cur[e] + prev[e];
    loss += a * a;
    const g = (2 * a) / n;
    dPrev[e] = g;
    dCur[e] = -2 * g;
    dNext[e] = g;
  }
  return { loss: loss / n, dPrev, dCur, dNext };
}

export function planeTVRef(layout: HexPlaneLayout, planes: Num) {
  const grad = new Float64Array(layout.planeFloats);
  const F = layout.features;
  let loss = 0;
  for (let l = 0; l < layout.levels; l++) {
    for (let p = 0; p < 6; p++) {
      const [w, h] = layout.planeDims[l][p];
      const base = layout.planeOffsets[l * 6 + p];
      const at = (x: number, y: number, f: number) => base + (y * w + x) * F + f;
      const nx = h * (w - 1) * F;
      const ny = (h - 1) * w * F;
      for (let y = 0; y < h; y++) {
        for (let x = 0; x < w; x++) {
          for (let f = 0; f < F; f++) {
            if (x + 1 < w) {
              const d = planes[at(x + 1, y, f)] - planes[at(x, y, f)];
              loss += (d * d) / nx;
              grad[at(x + 1, y, f)] += (2 * d) / nx;
              grad[at(x, y, f)] -= (2 * d) / nx;
            }
            if (y + 1 < h) {
              const d = planes[at(x, y + 1, f)] - planes[at(x, y, f)];
              loss += (d * d) / ny;
              grad[at(x, y + 1, f)] += (2 * d) / ny;
              grad[at(x, y, f)] -= (2 * d) / ny;
            }
          }
        }
      }
    }
  }
  return { loss, grad };
}

export function rigidityRef(canonical: Num, deformed: Num, neighbours: ArrayLike<number>, weights: Num, k: number) {
  const n = canonical.length / 3;
  const grad = new Float64Array(deformed.length);
  let loss = 0;
  const norm = 1 / (n * k);
  for (let i = 0; i < n; i++) {
    for (let s = 0; s < k; s++) {
      const j = neighbours[i * k + s];
      const w = weights[i * k + s];
      let r0 = 0;
      let r = 0;
      const d = [0, 0, 0];
      for (let c = 0; c < 3; c++) {
        const d0 = canonical[3 * j + c] - canonical[3 * i + c];
        d[c] = deformed[3 * j + c] - deformed[3 * i + c];
        r0 += d0 * d0;
        r += d[c] * d[c];
      }
      r0 = Math.sqrt(r0);
      r = Math.sqrt(r);
      const e = r - r0;
      loss += norm * w * e * e;
      if (r > 0) {
        for (let c = 0; c < 3; c++) {
          const g = (norm * 2 * w * e * d[c]) / r;
          grad[3 * j + c] += g;
          grad[3 * i + c] -= g;
        }
      }
    }
  }
  return { loss, grad };
}
