/**
 * Reference (f64) of the whole splat renderer: projection of every (view, splat), depth
 * order, per-pixel front-to-back compositing with the 1/255 and 0.999 clamps and the
 * T <= 1e-4 stop, background; and the analytic backward from cotangents on RGB, alpha,
 * depth and normal to every raw parameter, plus the densification statistics.
 */
import type { Camera } from '../../math/camera.ts';
import type { RenderOptions } from '../../render/types.ts';
import { shCoeffCount, type GaussianData } from '../../scene/gaussian-data.ts';
import { ALPHA_MAX, ALPHA_MIN, DEFAULT_FAR, DEFAULT_NEAR, TILE_SIZE, T_MIN } from '../../render/splat/constants.ts';
import { projectSplat, projectSplatBackward, refView, type Grad2D, type ProjectOptions, type RefView, type Splat2D, type SplatParams } from './project.ts';

export interface RefImages {
  views: number;
  width: number;
  height: number;
  rgb: Float64Array; // [V][H][W][3]
  alpha: Float64Array;
  depth: Float64Array;
  normal: Float64Array; // [V][H][W][3]
  /** Per (view, splat), [V][N]. */
  radii: Float64Array;
  visible: Uint8Array;
}

export interface RefCotangents {
  rgb?: ArrayLike<number>;
  alpha?: ArrayLike<number>;
  depth?: ArrayLike<number>;
  normal?: ArrayLike<number>;
}

export interface RefGrads {
  means: Float64Array;
  logScales: Float64Array;
  quats: Float64Array;
  opacityLogits: Float64Array;
  sh: Float64Array;
  gradNorm2d: Float64Array;
  absGradNorm2d: Float64Array;
  visibleCount: Float64Array;
  maxRadius: Float64Array;
}

export interface Contribution {
  splat: number;
  alpha: number;
  /** Transmittance before this splat. */
  T: number;
  clamped: boolean;
  G: number;
  dx: number;
  dy: number;
}

function options(data: GaussianData, o: RenderOptions = {}): ProjectOptions & { background: [number, number, number] } {
  return {
    near: o.near ?? DEFAULT_NEAR,
    far: o.far ?? DEFAULT_FAR,
    antialiased: o.antialiased ?? false,
    shDegree: Math.min(o.shDegree ?? data.shDegree, data.shDegree),
    background: o.background ?? [0, 0, 0],
  };
}

export function splatParams(data: GaussianData, i: number): SplatParams {
  const K = shCoeffCount(data.shDegree);
  const m = data.means, s = data.logScales, q = data.quats;
  return {
    mean: [m[i * 3], m[i * 3 + 1], m[i * 3 + 2]],
    logScale: [s[i * 3], s[i * 3 + 1], s[i * 3 + 2]],
    quat: [q[i * 4], q[i * 4 + 1], q[i * 4 + 2], q[i * 4 + 3]],
    logit: data.opacityLogits[i],
    sh: data.sh.subarray(i * K * 3, (i + 1) * K * 3),
  };
}

/** Visible splats of one view in front-to-back order (ties by index), bucketed per tile. */
function tileLists(splats: Splat2D[], tilesX: number, tilesY: number): number[][] {
  const order = splats.map((_, i) => i).filter((i) => splats[i].visible);
  order.sort((a, b) => splats[a].depth - splats[b].depth || a - b);
  const lists: number[][] = Array.from({ length: tilesX * tilesY }, () => []);
  for (const i of order) {
    const [x0, y0, x1, y1] = splats[i].rect;
    for (let ty = y0; ty < y1; ty++) for (let tx = x0; tx < x1; tx++) lists[ty * tilesX + tx].push(i);
  }
  return lists;
}

export interface ForwardState {
  images: RefImages;
  projected: Splat2D[][];
  views: RefView[];
  /** Per view, per pixel: contributing splats front to back. */
  contributions: Contribution[][][];
  finalT: Float64Array;
}

/** The forward with its per-pixel compositing record (for the distortion reference). */
export function referenceForwardState(data: GaussianData, cameras: Camera[], o: RenderOptions = {}): ForwardState {
  const opts = options(data, o);
  const V = cameras.length;
  const W = cameras[0]?.width ?? 0, H = cameras[0]?.height ?? 0;
  const P = W * H;
  const images: RefImages = {
    views: V, width: W, height: H,
    rgb: new Float64Array(V * P * 3), alpha: new Float64Array(V * P), depth: new Float64Array(V * P),
    normal: new Float64Array(V * P * 3), radii: new Float64Array(V * data.count), visible: new Uint8Array(V * data.count),
  };
  const params = Array.from({ length: data.count }, (_, i) => splatParams(data, i));
  const views = cameras.map(refView);
  const projected: Splat2D[][] = [];
  const contributions: Contribution[][][] = [];
  const finalT = new Float64Array(V * P);
  const tilesX = Math.ceil(W / TILE_SIZE), tilesY = Math.ceil(H / TILE_SIZE);
  for (let v = 0; v < V; v++) {
    const splats = params.map((p) => projectSplat(views[v], p, opts));
    projected.push(splats);
    splats.forEach((s, i) => {
      images.radii[v * data.count + i] = s.radius;
      images.visible[v * data.count + i] = s.visible ? 1 : 0;
    });
    const lists = tileLists(splats, tilesX, tilesY);
    const perPixel: Contribution[][] = [];
    for (let py = 0; py < H; py++)
      for (let px = 0; px < W; px++) {
        const list = lists[Math.floor(py / TILE_SIZE) * tilesX + Math.floor(px / TILE_SIZE)];
        const contribs: Contribution[] = [];
        let T = 1;
        const c = [0, 0, 0, 0, 0, 0, 0]; // rgb, depth, normal
        for (const i of list) {
          const s = splats[i];
          const dx = s.mean2d[0] - (px + 0.5), dy = s.mean2d[1] - (py + 0.5);
          const sigma = 0.5 * (s.conic[0] * dx * dx + s.conic[2] * dy * dy) + s.conic[1] * dx * dy;
          if (sigma < 0) continue;
          const G = Math.exp(-sigma);
          const raw = s.opacity * G;
          const alpha = Math.min(ALPHA_MAX, raw);
          if (alpha < ALPHA_MIN) continue;
          const nextT = T * (1 - alpha);
          if (nextT <= T_MIN) break;
          const w = alpha * T;
          const f = [...s.rgb, s.depth, ...s.normal];
          for (let k = 0; k < 7; k++) c[k] += f[k] * w;
          contribs.push({ splat: i, alpha, T, clamped: raw > ALPHA_MAX, G, dx, dy });
          T = nextT;
        }
        const pix = v * P + py * W + px;
        for (let k = 0; k < 3; k++) images.rgb[pix * 3 + k] = c[k] + T * opts.background[k];
        images.alpha[pix] = 1 - T;
        images.depth[pix] = c[3];
        for (let k = 0; k < 3; k++) images.normal[pix * 3 + k] = c[4 + k];
        finalT[pix] = T;
        perPixel.push(contribs);
      }
    contributions.push(perPixel);
  }
  return { images, projected, views, contributions, finalT };
}

export function referenceRender(data: GaussianData, cameras: Camera[], o: RenderOptions = {}): RefImages {
  return referenceForwardState(data, cameras, o).images;
}

export interface RefBackward {
  grads: RefGrads;
  /** Per (view, splat) screen-space gradients, for debugging kernels stage by stage. */
  grad2d: Grad2D[][];
}

/** Zeroed screen-space gradients [view][splat] and the |d mean2d| sums (absgrad) [view * N + splat]. */
export function zeroScreenGradients(views: number, splats: number): { grad2d: Grad2D[][]; absGrad: number[][] } {
  const zero = (): Grad2D => ({ mean2d: [0, 0], conic: [0, 0, 0], opacity: 0, rgb: [0, 0, 0], depth: 0, normal: [0, 0, 0] });
  return {
    grad2d: Array.from({ length: views }, () => Array.from({ length: splats }, zero)),
    absGrad: Array.from({ length: views * splats }, () => [0, 0]),
  };
}

/**
 * Adds dL/d(alpha) of one contribution into its splat's opacity, conic and 2D mean (and the
 * absgrad sums); nothing where alpha was clamped at ALPHA_MAX.
 */
export function addAlphaGradient(out: Grad2D, abs: number[], s: Splat2D, c: Contribution, vAlpha: number): void {
  if (c.clamped) return;
  const vSigma = -s.opacity * c.G * vAlpha;
  out.opacity += c.G * vAlpha;
  out.conic[0] += 0.5 * vSigma * c.dx * c.dx;
  out.conic[1] += vSigma * c.dx * c.dy;
  out.conic[2] += 0.5 * vSigma * c.dy * c.dy;
  const gx = vSigma * (s.conic[0] * c.dx + s.conic[1] * c.dy);
  const gy = vSigma * (s.conic[1] * c.dx + s.conic[2] * c.dy);
  out.mean2d[0] += gx;
  out.mean2d[1] += gy;
  abs[0] += Math.abs(gx);
  abs[1] += Math.abs(gy);
}

export function referenceBackward(data: GaussianData, cameras: Camera[], cot: RefCotangents, o: RenderOptions = {}): RefBackward {
  const opts = options(data, o);
  const st = referenceForwardState(data, cameras, o);
  const V = cameras.length, N = data.count;
  const W = st.images.width, H = st.images.height, P = W * H;
  const { grad2d, absGrad } = zeroScreenGradients(V, N);
  const bg = opts.background;
  for (let v = 0; v < V; v++) {
    const splats = st.projected[v];
    for (let p = 0; p < P; p++) {
      const pix = v * P + p;
      const g = [
        cot.rgb?.[pix * 3] ?? 0, cot.rgb?.[pix * 3 + 1] ?? 0, cot.rgb?.[pix * 3 + 2] ?? 0,
        cot.depth?.[pix] ?? 0,
        cot.normal?.[pix * 3] ?? 0, cot.normal?.[pix * 3 + 1] ?? 0, cot.normal?.[pix * 3 + 2] ?? 0,
      ];
      const gA = cot.alpha?.[pix] ?? 0;
      const Tfinal = st.finalT[pix];
      const bgTerm = gA - (bg[0] * g[0] + bg[1] * g[1] + bg[2] * g[2]);
      const S = [0, 0, 0, 0, 0, 0, 0];
      const list = st.contributions[v][p];
      for (let j = list.length - 1; j >= 0; j--) {
        const c = list[j];
        const s = splats[c.splat];
        const f = [...s.rgb, s.depth, ...s.normal];
        const w = c.alpha * c.T;
        const out = grad2d[v][c.splat];
        const vf = g.map((x) => x * w);
        out.rgb[0] += vf[0]; out.rgb[1] += vf[1]; out.rgb[2] += vf[2];
        out.depth += vf[3];
        out.normal[0] += vf[4]; out.normal[1] += vf[5]; out.normal[2] += vf[6];
        let vAlpha = (Tfinal / (1 - c.alpha)) * bgTerm;
        for (let k = 0; k < 7; k++) vAlpha += g[k] * (c.T * f[k] - S[k] / (1 - c.alpha));
        for (let k = 0; k < 7; k++) S[k] += f[k] * w;
        addAlphaGradient(out, absGrad[v * N + c.splat], s, c, vAlpha);
      }
    }
  }
  return { grads: referenceParamGrads(data, cameras, st, grad2d, absGrad, o), grad2d };
}

/**
 * The projection stage of the backward: per-(view, splat) screen-space gradients (and the
 * per-pixel |d mean2d| sums) to raw parameters and densification statistics.
 */
export function referenceParamGrads(data: GaussianData, cameras: Camera[], st: ForwardState, grad2d: Grad2D[][], absGrad: number[][], o: RenderOptions = {}): RefGrads {
  const opts = options(data, o);
  const V = cameras.length, N = data.count;
  const W = st.images.width, H = st.images.height;
  const K = shCoeffCount(data.shDegree);
  const grads: RefGrads = {
    means: new Float64Array(N * 3), logScales: new Float64Array(N * 3), quats: new Float64Array(N * 4),
    opacityLogits: new Float64Array(N), sh: new Float64Array(N * K * 3),
    gradNorm2d: new Float64Array(N), absGradNorm2d: new Float64Array(N), visibleCount: new Float64Array(N), maxRadius: new Float64Array(N),
  };
  for (let i = 0; i < N; i++) {
    const p = splatParams(data, i);
    for (let v = 0; v < V; v++) {
      const s = st.projected[v][i];
      if (!s.visible) continue;
      const g2 = grad2d[v][i];
      const pg = projectSplatBackward(st.views[v], p, opts, g2);
      for (let a = 0; a < 3; a++) {
        grads.means[i * 3 + a] += pg.mean[a];
        grads.logScales[i * 3 + a] += pg.logScale[a];
      }
      for (let a = 0; a < 4; a++) grads.quats[i * 4 + a] += pg.quat[a];
      grads.opacityLogits[i] += pg.logit;
      for (let k = 0; k < pg.sh.length; k++) grads.sh[i * K * 3 + k] += pg.sh[k];
      const sx = (W / 2) * V, sy = (H / 2) * V;
      grads.gradNorm2d[i] += Math.hypot(g2.mean2d[0] * sx, g2.mean2d[1] * sy);
      grads.absGradNorm2d[i] += Math.hypot(absGrad[v * N + i][0] * sx, absGrad[v * N + i][1] * sy);
      grads.visibleCount[i] += 1;
      grads.maxRadius[i] = Math.max(grads.maxRadius[i], s.radius);
    }
  }
  return grads;
}
