/**
 * Reference (f64) of the splat renderer's depth distortion (2DGS) and its backward.
 *
 * Per pixel, over the splats the forward composited (front to back, w_i = alpha_i T_i):
 *   L = sum_{i<j} w_i w_j (m_i - m_j)^2 = A D2 - D1^2,
 *   A = sum w, D1 = sum w m', D2 = sum w m'^2, m' = m - m_first
 * (the shift by the first splat's m changes nothing exactly and keeps f32 sums small on the
 * GPU). m = f / (f - n) * (1 - n / z) (see src/render/splat/distortion.ts).
 *
 * Backward, with e_k = dL/dw_k = D2 + A m'_k^2 - 2 D1 m'_k and S_i = sum_{k>i} e_k w_k:
 *   dL/dalpha_i = e_i T_i - S_i / (1 - alpha_i)       (w_k for k > i carries 1 - alpha_i)
 *   dL/dm_i     = 2 w_i (A m'_i - D1)
 * then alpha -> opacity, conic, mean2d exactly as the colour backward does.
 */
import type { Camera } from '../../math/camera.ts';
import type { RenderOptions } from '../../render/types.ts';
import { distortionMapping } from '../../render/splat/distortion.ts';
import type { GaussianData } from '../../scene/gaussian-data.ts';
import type { Grad2D } from './project.ts';
import { addAlphaGradient, referenceForwardState, referenceParamGrads, zeroScreenGradients, type ForwardState, type RefGrads } from './render.ts';

interface PixelMoments {
  A: number;
  D1: number;
  D2: number;
  /** The shift m_first. */
  shift: number;
}

function pixelMoments(st: ForwardState, v: number, p: number, m: (z: number) => number): PixelMoments {
  const list = st.contributions[v][p];
  const splats = st.projected[v];
  const shift = list.length ? m(splats[list[0].splat].depth) : 0;
  let A = 0, D1 = 0, D2 = 0;
  for (const c of list) {
    const w = c.alpha * c.T;
    const mi = m(splats[c.splat].depth) - shift;
    A += w;
    D1 += w * mi;
    D2 += w * mi * mi;
  }
  return { A, D1, D2, shift };
}

/** Per-pixel distortion [V][H][W]. */
export function referenceDistortion(data: GaussianData, cameras: Camera[], o: RenderOptions = {}): Float64Array {
  const st = referenceForwardState(data, cameras, o);
  const { map } = distortionMapping(o);
  const P = st.images.width * st.images.height;
  const out = new Float64Array(cameras.length * P);
  for (let v = 0; v < cameras.length; v++)
    for (let p = 0; p < P; p++) {
      const { A, D1, D2 } = pixelMoments(st, v, p, map);
      out[v * P + p] = A * D2 - D1 * D1;
    }
  return out;
}

export interface RefDistortionBackward {
  grads: RefGrads;
  grad2d: Grad2D[][];
}

/** Gradients of sum_pixels cot * L into every raw parameter and the densification statistics. */
export function referenceDistortionBackward(data: GaussianData, cameras: Camera[], cot: ArrayLike<number>, o: RenderOptions = {}): RefDistortionBackward {
  const st = referenceForwardState(data, cameras, o);
  const { map, slope } = distortionMapping(o);
  const V = cameras.length, N = data.count;
  const P = st.images.width * st.images.height;
  const { grad2d, absGrad } = zeroScreenGradients(V, N);
  for (let v = 0; v < V; v++) {
    const splats = st.projected[v];
    for (let p = 0; p < P; p++) {
      const g = cot[v * P + p];
      const list = st.contributions[v][p];
      if (g === 0 || list.length === 0) continue;
      const { A, D1, D2, shift } = pixelMoments(st, v, p, map);
      let S = 0;
      for (let i = list.length - 1; i >= 0; i--) {
        const c = list[i];
        const s = splats[c.splat];
        const w = c.alpha * c.T;
        const mi = map(s.depth) - shift;
        const e = D2 + A * mi * mi - 2 * D1 * mi;
        const vAlpha = g * (e * c.T - S / (1 - c.alpha));
        S += e * w;
        const out = grad2d[v][c.splat];
        out.depth += g * 2 * w * (A * mi - D1) * slope(s.depth);
        addAlphaGradient(out, absGrad[v * N + c.splat], s, c, vAlpha);
      }
    }
  }
  return { grads: referenceParamGrads(data, cameras, st, grad2d, absGrad, o), grad2d };
}
