/**
 * `prompt-attributes`: an offline text-alignment reward that needs no model. It reads colour
 * words (with light/dark modifiers), material words that imply a colour, and simple shape
 * names from the prompt, and scores each view by
 *   colourWeight * colour agreement  (alpha-weighted, differentiable in rgb and alpha)
 * + shapeWeight  * silhouette IoU against the named shape seen from the same camera
 *                  (both silhouettes normalised to their bounding boxes; piecewise constant).
 * + silhouetteWeight * silhouette agreement, when `shapeSize` is set: minus the mean squared
 *                  difference between alpha and the named shape's silhouette at that size
 *                  (world units, centred at the origin) from the same camera; differentiable
 *                  in alpha, so it can shape the object rather than only score it.
 * + framingWeight * framing: minus the share of the image's border zone covered by alpha
 *                  (the named object must be whole and inside the view; differentiable in
 *                  alpha). Without it the box-normalised silhouette and the colour term are
 *                  both satisfied by an object that grows to fill the frame.
 * Colour agreement is -mean_fg min_k [4 |chroma - chroma_k|^2 + lw (lum - lum_k)^2], with
 * chroma = rgb / (r + g + b): shading changes brightness, not chromaticity.
 * Words it does not know are returned as warnings and counted in details.unknownWords.
 */
import type { Gpu } from '../gpu/gpu.ts';
import type { RewardNeeds, RewardPlugin, RewardScore, RewardViews } from './plugin.ts';
import { parsePrompt, type ParsedPrompt, type Rgb } from './prompt-vocabulary.ts';
import { boxNormalised, iou, shapeSilhouette } from './shape-templates.ts';
import { validateOptions } from './registry.ts';

export const optionsSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    colourWeight: { type: 'number', minimum: 0, default: 1 },
    shapeWeight: { type: 'number', minimum: 0, default: 1 },
    luminanceWeight: { type: 'number', minimum: 0, default: 0.5 },
    /** Resolution of the silhouette comparison. */
    silhouetteResolution: { type: 'integer', minimum: 8, maximum: 256, default: 48 },
    foregroundAlpha: { type: 'number', exclusiveMinimum: 0, exclusiveMaximum: 1, default: 0.5 },
    framingWeight: { type: 'number', minimum: 0, default: 1 },
    /** Size (world units) of the shape template for the differentiable silhouette term; off when absent. */
    shapeSize: { type: 'number', exclusiveMinimum: 0 },
    silhouetteWeight: { type: 'number', minimum: 0, default: 1 },
    /** Where the border zone starts: Chebyshev distance from the image centre, as a fraction of the half-size. */
    framingRadius: { type: 'number', exclusiveMinimum: 0, exclusiveMaximum: 1, default: 0.7 },
  },
};

interface Options {
  colourWeight: number;
  shapeWeight: number;
  luminanceWeight: number;
  silhouetteResolution: number;
  foregroundAlpha: number;
  framingWeight: number;
  framingRadius: number;
  shapeSize?: number;
  silhouetteWeight: number;
}

const EPS = 1e-3;
const EMPTY_COLOUR_SCORE = -4;

/** Colour distance of one pixel to the nearest target and its gradient w.r.t. rgb. */
export function colourDistance(rgb: ArrayLike<number>, targets: Rgb[], lw: number): { d: number; g: [number, number, number] } {
  const s = rgb[0] + rgb[1] + rgb[2] + EPS;
  const lum = (rgb[0] + rgb[1] + rgb[2]) / 3;
  let best = Infinity;
  let g: [number, number, number] = [0, 0, 0];
  for (const t of targets) {
    const ts = t[0] + t[1] + t[2] + EPS;
    const tl = (t[0] + t[1] + t[2]) / 3;
    let d = lw * (lum - tl) ** 2;
    const diff = [0, 1, 2].map((c) => rgb[c] / s - t[c] / ts);
    for (const x of diff) d += 4 * x * x;
    if (d < best) {
      best = d;
      // d chroma_i / d rgb_j = (delta_ij - chroma_i) / s.
      const dot = diff[0] * (rgb[0] / s) + diff[1] * (rgb[1] / s) + diff[2] * (rgb[2] / s);
      g = [0, 1, 2].map((j) => (8 * (diff[j] - dot)) / s + (2 * lw * (lum - tl)) / 3) as [number, number, number];
    }
  }
  return { d: best, g };
}

/** Alpha-weighted colour score of each view and the gradient of their sum (CPU, f64). */
export function colourScores(rgb: ArrayLike<number>, alpha: ArrayLike<number>, V: number, P: number, targets: Rgb[], lw: number) {
  const scores = new Float64Array(V);
  const dRgb = new Float32Array(V * P * 3);
  const dAlpha = new Float32Array(V * P);
  const d = new Float64Array(P);
  for (let v = 0; v < V; v++) {
    let mass = 0;
    let sum = 0;
    for (let p = 0; p < P; p++) {
      const i = v * P + p;
      const a = alpha[i];
      if (a <= 0) continue;
      const r = colourDistance([rgb[i * 3], rgb[i * 3 + 1], rgb[i * 3 + 2]], targets, lw);
      d[p] = r.d;
      mass += a;
      sum += a * r.d;
      for (let c = 0; c < 3; c++) dRgb[i * 3 + c] = -a * r.g[c];
    }
    if (mass < 1e-6) {
      scores[v] = EMPTY_COLOUR_SCORE;
      dRgb.fill(0, v * P * 3, (v + 1) * P * 3);
      continue;
    }
    const s = -sum / mass;
    scores[v] = s;
    for (let p = 0; p < P; p++) {
      const i = v * P + p;
      if (alpha[i] <= 0) continue;
      for (let c = 0; c < 3; c++) dRgb[i * 3 + c] /= mass;
      dAlpha[i] = -(d[p] + s) / mass;
    }
  }
  return { scores, dRgb, dAlpha };
}

/**
 * Border weights w_p in [0, 1]: 0 inside the central square of Chebyshev radius r0, rising
 * linearly to 1 at the image edge.
 */
export function borderWeights(width: number, height: number, r0: number): Float32Array {
  const w = new Float32Array(width * height);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) {
      const r = Math.max(Math.abs((2 * (x + 0.5)) / width - 1), Math.abs((2 * (y + 0.5)) / height - 1));
      w[y * width + x] = Math.max(0, (r - r0) / (1 - r0));
    }
  return w;
}

/** framing_v = -sum_p alpha_p w_p / sum_p w_p, and its gradient d(sum_v framing_v)/d alpha. */
export function framingScores(alpha: ArrayLike<number>, V: number, width: number, height: number, r0: number) {
  const w = borderWeights(width, height, r0);
  const P = width * height;
  const total = w.reduce((a, b) => a + b, 0) || 1;
  const scores = new Float64Array(V);
  const dAlpha = new Float32Array(V * P);
  for (let v = 0; v < V; v++) {
    let s = 0;
    for (let p = 0; p < P; p++) {
      s += alpha[v * P + p] * w[p];
      dAlpha[v * P + p] = -w[p] / total;
    }
    scores[v] = -s / total;
  }
  return { scores, dAlpha };
}

/**
 * silhouette_v = -mean_p (alpha_p - T_p)^2 against binary templates T [V][H][W], and the
 * gradient of sum_v silhouette_v w.r.t. alpha.
 */
export function silhouetteScores(alpha: ArrayLike<number>, templates: Uint8Array, V: number, P: number) {
  const scores = new Float64Array(V);
  const dAlpha = new Float32Array(V * P);
  for (let v = 0; v < V; v++) {
    let s = 0;
    for (let p = 0; p < P; p++) {
      const d = alpha[v * P + p] - templates[v * P + p];
      s += d * d;
      dAlpha[v * P + p] = (-2 * d) / P;
    }
    scores[v] = -s / P;
  }
  return { scores, dAlpha };
}

export class PromptAttributesReward implements RewardPlugin {
  readonly name = 'prompt-attributes';
  readonly differentiable = true;
  /** Reads rgb and alpha only. */
  readonly needs: RewardNeeds = { normal: false };
  private cached: { prompt: string; parsed: ParsedPrompt } | null = null;
  constructor(private readonly o: Options) {}

  private parse(prompt: string): ParsedPrompt {
    if (this.cached?.prompt !== prompt) this.cached = { prompt, parsed: parsePrompt(prompt) };
    return this.cached.parsed;
  }

  async score(views: RewardViews, gpu: Gpu): Promise<RewardScore> {
    const { views: V, width: W, height: H } = views;
    const P = W * H;
    const parsed = this.parse(views.prompt);
    const warnings: string[] = [];
    if (parsed.unknown.length) warnings.push(`words not understood (not scored): ${parsed.unknown.join(', ')}`);
    if (parsed.unscored.length) warnings.push(`materials recognised but not scored: ${parsed.unscored.join(', ')}`);
    if (!parsed.colours.length && !parsed.shapes.length) warnings.push('the prompt names no colour, material or shape this reward knows; it scores 0');
    const alpha = await gpu.readF32(views.alpha, V * P);
    const scores = new Float32Array(V);
    const details: Record<string, number> = { unknownWords: parsed.unknown.length };
    // Gradients are summed on the CPU and uploaded once.
    let dRgb: Float32Array | null = null;
    let dAlpha: Float32Array | null = null;
    if (parsed.colours.length && this.o.colourWeight > 0) {
      const rgb = await gpu.readF32(views.rgb, V * P * 3);
      const c = colourScores(rgb, alpha, V, P, parsed.colours, this.o.luminanceWeight);
      const w = this.o.colourWeight;
      for (let v = 0; v < V; v++) scores[v] += w * c.scores[v];
      details.colour = c.scores.reduce((a, b) => a + b, 0) / V;
      dRgb = c.dRgb.map((g) => g * w);
      dAlpha = c.dAlpha.map((g) => g * w);
    }
    if ((parsed.colours.length || parsed.shapes.length) && this.o.framingWeight > 0) {
      const f = framingScores(alpha, V, W, H, this.o.framingRadius);
      const w = this.o.framingWeight;
      for (let v = 0; v < V; v++) scores[v] += w * f.scores[v];
      details.framing = f.scores.reduce((a, b) => a + b, 0) / V;
      dAlpha ??= new Float32Array(V * P);
      for (let i = 0; i < V * P; i++) dAlpha[i] += w * f.dAlpha[i];
    }
    if (parsed.shapes.length && this.o.shapeSize && this.o.silhouetteWeight > 0) {
      // The first named shape is the object; its template is re-traced per camera.
      const templates = new Uint8Array(V * P);
      for (let v = 0; v < V; v++) templates.set(shapeSilhouette(parsed.shapes[0], views.cameras[v], W, this.o.shapeSize, H), v * P);
      const sil = silhouetteScores(alpha, templates, V, P);
      const w = this.o.silhouetteWeight;
      for (let v = 0; v < V; v++) scores[v] += w * sil.scores[v];
      details.silhouette = sil.scores.reduce((a, b) => a + b, 0) / V;
      dAlpha ??= new Float32Array(V * P);
      for (let i = 0; i < V * P; i++) dAlpha[i] += w * sil.dAlpha[i];
    }
    const grads: RewardScore['grads'] = dRgb || dAlpha ? {} : undefined;
    if (grads && dRgb) grads.rgb = gpu.upload('prompt-attributes.drgb', dRgb);
    if (grads && dAlpha) grads.alpha = gpu.upload('prompt-attributes.dalpha', dAlpha);
    if (parsed.shapes.length && this.o.shapeWeight > 0) {
      const res = Math.min(this.o.silhouetteResolution, W, H);
      const grid = 24;
      let mean = 0;
      for (let v = 0; v < V; v++) {
        const mask = new Uint8Array(res * res);
        for (let j = 0; j < res; j++)
          for (let i = 0; i < res; i++) {
            const x = Math.floor(((i + 0.5) * W) / res);
            const y = Math.floor(((j + 0.5) * H) / res);
            mask[j * res + i] = alpha[v * P + y * W + x] > this.o.foregroundAlpha ? 1 : 0;
          }
        const fg = boxNormalised(mask, res, res, grid);
        let best = 0;
        if (fg) for (const s of parsed.shapes) best = Math.max(best, iou(fg, boxNormalised(shapeSilhouette(s, views.cameras[v], res), res, res, grid) ?? new Uint8Array(grid * grid)));
        scores[v] += this.o.shapeWeight * best;
        mean += best / V;
      }
      details.shape = mean;
    }
    return { scores, grads, details, warnings };
  }
}

export default function createPromptAttributesReward(options: Record<string, unknown>): RewardPlugin {
  return new PromptAttributesReward(validateOptions('prompt-attributes', optionsSchema, options) as unknown as Options);
}
