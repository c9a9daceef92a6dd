/**
 * The exemplar prior: the exact (Bayes-optimal) noise predictor for a data distribution made
 * of reference images y_k, each smoothed by an isotropic Gaussian of std `smoothing` (0 =
 * the empirical distribution itself). Under the DDPM forward process
 * x_t | k ~ N(alpha y_k, v I), v = alpha^2 s^2 + sigma^2, so
 *   p(k | x_t) = softmax_k(log pi_k - |x_t - alpha y_k|^2 / (2 v))
 *   E[x_0 | x_t] = sum_k p(k | x_t) (y_k + (alpha s^2 / v)(x_t - alpha y_k))
 *   eps_hat = (x_t - alpha E[x_0 | x_t]) / sigma.
 * It needs no weights. The condition is the camera: with `cameraBandwidth` (degrees) and
 * exemplars that carry a view direction, pi_k = exp(-angle^2 / (2 b^2)) favours exemplars
 * seen from near the rendered view; the unconditional prediction uses uniform pi, and CFG
 * mixes the two. The prompt is not used (the exemplars are the condition).
 */
import { readFile } from 'node:fs/promises';
import { isAbsolute, resolve } from 'node:path';
import { existsSync } from 'node:fs';
import { decode } from 'fast-png';
import { InputError } from '../errors.ts';
import type { Camera } from '../math/camera.ts';
import { classifierFreeGuidance, ddpmSchedule, noiseLevels, type DdpmSchedule, type DdpmScheduleOptions, type NoiseRequest, type ScorePrior } from './score-prior.ts';

type Vec3 = [number, number, number];

export interface Exemplar {
  width: number;
  height: number;
  /** [H][W][3] colours in [0, 1]. */
  rgb: Float32Array;
  /** Unit direction from the object centre to the camera that saw it (world, +Y up). */
  direction?: Vec3;
}

export interface ExemplarFile {
  path: string;
  /** Degrees, as the camera sampler's orbit: the direction the exemplar was seen from. */
  elevation?: number;
  azimuth?: number;
}

export interface ExemplarPriorOptions {
  exemplars: (Exemplar | ExemplarFile)[];
  /** Std of the Gaussian smoothing of each exemplar, in model units ([-1, 1] images). */
  smoothing?: number;
  /** Camera-proximity bandwidth in degrees; 0 or absent = every exemplar weighs the same. */
  cameraBandwidth?: number;
  schedule?: DdpmScheduleOptions;
  /** Relative exemplar paths are resolved against this folder. */
  baseDir?: string;
}

/** The direction an orbit camera at (elevation, azimuth) looks from (see math/camera.ts). */
export function orbitDirection(elevation: number, azimuth: number): Vec3 {
  const el = (elevation * Math.PI) / 180;
  const az = (azimuth * Math.PI) / 180;
  return [Math.cos(el) * Math.sin(az), Math.sin(el), Math.cos(el) * Math.cos(az)];
}

/** Unit vector from the origin to the camera centre c = -R^T t of a world-to-camera viewmat. */
export function cameraDirection(camera: Camera): Vec3 {
  const m = camera.viewmat;
  const t = [m[3], m[7], m[11]];
  const c: Vec3 = [
    -(m[0] * t[0] + m[4] * t[1] + m[8] * t[2]),
    -(m[1] * t[0] + m[5] * t[1] + m[9] * t[2]),
    -(m[2] * t[0] + m[6] * t[1] + m[10] * t[2]),
  ];
  const l = Math.hypot(...c) || 1;
  return [c[0] / l, c[1] / l, c[2] / l];
}

export async function loadPngRgb(path: string): Promise<{ width: number; height: number; rgb: Float32Array }> {
  if (!existsSync(path)) throw new InputError(`exemplar image '${path}' does not exist; give PNG files that exist (paths relative to the scene config).`);
  let png;
  try {
    png = decode(await readFile(path));
  } catch (e) {
    throw new InputError(`exemplar image '${path}' is not a readable PNG: ${(e as Error).message}`);
  }
  const { width, height, channels, depth, data } = png;
  if (png.palette) throw new InputError(`exemplar image '${path}' uses a palette; save it as RGB or RGBA.`);
  const max = depth === 16 ? 65535 : (1 << depth) - 1;
  const rgb = new Float32Array(width * height * 3);
  for (let i = 0; i < width * height; i++) {
    for (let c = 0; c < 3; c++) rgb[i * 3 + c] = data[i * channels + (channels >= 3 ? c : 0)] / max;
  }
  return { width, height, rgb };
}

export class ExemplarPrior implements ScorePrior {
  readonly name = 'exemplar';
  private constructor(
    readonly schedule: DdpmSchedule,
    readonly resolution: { width: number; height: number },
    /** Exemplars in model space [-1, 1]. */
    private readonly images: Float32Array[],
    private readonly directions: (Vec3 | undefined)[],
    private readonly smoothing: number,
    private readonly bandwidth: number,
  ) {}

  static async create(options: ExemplarPriorOptions): Promise<ExemplarPrior> {
    const list = options.exemplars;
    if (!Array.isArray(list) || list.length === 0) throw new InputError(`exemplar prior: 'exemplars' must list at least one image.`);
    const smoothing = options.smoothing ?? 0;
    const bandwidth = options.cameraBandwidth ?? 0;
    if (!(smoothing >= 0)) throw new InputError(`exemplar prior: 'smoothing' must be a number >= 0, got ${smoothing}.`);
    if (!(bandwidth >= 0)) throw new InputError(`exemplar prior: 'cameraBandwidth' must be a number of degrees >= 0, got ${bandwidth}.`);
    const loaded: Exemplar[] = [];
    for (const e of list) {
      if ('path' in e) {
        const full = isAbsolute(e.path) ? e.path : resolve(options.baseDir ?? process.cwd(), e.path);
        const img = await loadPngRgb(full);
        const direction = e.elevation !== undefined || e.azimuth !== undefined ? orbitDirection(e.elevation ?? 0, e.azimuth ?? 0) : undefined;
        loaded.push({ ...img, direction });
      } else loaded.push(e);
    }
    const { width, height } = loaded[0];
    for (const [i, e] of loaded.entries()) {
      if (e.width !== width || e.height !== height)
        throw new InputError(`exemplar prior: exemplar ${i} is ${e.width}x${e.height}, exemplar 0 is ${width}x${height}; give images of one size.`);
      if (e.rgb.length !== width * height * 3) throw new InputError(`exemplar prior: exemplar ${i} needs ${width * height * 3} values, has ${e.rgb.length}.`);
    }
    const images = loaded.map((e) => e.rgb.map((c) => 2 * c - 1));
    return new ExemplarPrior(ddpmSchedule(options.schedule), { width, height }, images, loaded.map((e) => e.direction), smoothing, bandwidth);
  }

  /** Log prior weights of the exemplars for a view (uniform without camera conditioning). */
  private logWeights(camera: Camera | undefined): Float64Array | undefined {
    if (!(this.bandwidth > 0) || !camera) return undefined;
    if (this.directions.some((d) => !d)) return undefined;
    const dir = cameraDirection(camera);
    const b = (this.bandwidth * Math.PI) / 180;
    return Float64Array.from(this.directions, (d) => {
      const cos = Math.min(1, Math.max(-1, d![0] * dir[0] + d![1] * dir[1] + d![2] * dir[2]));
      const angle = Math.acos(cos);
      return -(angle * angle) / (2 * b * b);
    });
  }

  /** The exact eps prediction for one view given log prior weights (undefined = uniform). */
  private denoiseView(x: Float32Array, t: number, logPi: Float64Array | undefined): Float32Array {
    const { alpha, sigma } = noiseLevels(this.schedule, t);
    const s2 = this.smoothing * this.smoothing;
    const v = alpha * alpha * s2 + sigma * sigma;
    const K = this.images.length;
    const logits = new Float64Array(K);
    for (let k = 0; k < K; k++) {
      const y = this.images[k];
      let d2 = 0;
      for (let i = 0; i < x.length; i++) {
        const d = x[i] - alpha * y[i];
        d2 += d * d;
      }
      logits[k] = (logPi ? logPi[k] : 0) - d2 / (2 * v);
    }
    const max = Math.max(...logits);
    let z = 0;
    const p = logits.map((l) => {
      const e = Math.exp(l - max);
      z += e;
      return e;
    });
    const shrink = (alpha * s2) / v;
    const eps = new Float32Array(x.length);
    for (let i = 0; i < x.length; i++) {
      let x0 = 0;
      for (let k = 0; k < K; k++) {
        const y = this.images[k][i];
        x0 += (p[k] / z) * (y + shrink * (x[i] - alpha * y));
      }
      eps[i] = (x[i] - alpha * x0) / sigma;
    }
    return eps;
  }

  async predictNoise(req: NoiseRequest): Promise<Float32Array> {
    const { views, width, height, data } = req.noisy;
    if (width !== this.resolution.width || height !== this.resolution.height)
      throw new InputError(`exemplar prior: images must be ${this.resolution.width}x${this.resolution.height} (the exemplars' size), got ${width}x${height}.`);
    const per = width * height * 3;
    const out = new Float32Array(views * per);
    for (let v = 0; v < views; v++) {
      const x = data.subarray(v * per, (v + 1) * per);
      const uncond = this.denoiseView(x, req.t[v], undefined);
      const logPi = this.logWeights(req.cameras[v]);
      const eps = logPi ? classifierFreeGuidance(uncond, this.denoiseView(x, req.t[v], logPi), req.guidanceScale) : uncond;
      out.set(eps, v * per);
    }
    return out;
  }
}
