/**
 * Score priors for score distillation: anything that predicts the noise eps in
 * x_t = alpha_t x_0 + sigma_t eps under a DDPM schedule, with classifier-free guidance.
 *
 * Images are f32 [V][H][W][3] in model space [-1, 1] (rgb * 2 - 1) at the prior's
 * `resolution`; the SDS rules resize renders to it and convert back. Both priors here run on
 * the CPU (onnxruntime-node, plain loops), so the images are Float32Arrays rather than GPU
 * buffers. Timesteps are integers in [0, schedule.steps).
 */
import { InputError } from '../errors.ts';
import type { Camera } from '../math/camera.ts';

export type BetaSchedule = 'linear' | 'scaled-linear';

export interface DdpmSchedule {
  steps: number;
  betaSchedule: BetaSchedule;
  /** alphā_t = prod_{s<=t} (1 - beta_s), t = 0..steps-1 (f64). */
  alphasCumprod: Float64Array;
}

export interface DdpmScheduleOptions {
  steps?: number;
  betaStart?: number;
  betaEnd?: number;
  betaSchedule?: BetaSchedule;
}

/**
 * The DDPM noise schedule. 'linear': betas evenly spaced (DDPM: 1e-4 .. 0.02);
 * 'scaled-linear': sqrt(betas) evenly spaced (Stable Diffusion: 0.00085 .. 0.012).
 */
export function ddpmSchedule(options: DdpmScheduleOptions = {}): DdpmSchedule {
  const betaSchedule = options.betaSchedule ?? 'scaled-linear';
  const steps = options.steps ?? 1000;
  const betaStart = options.betaStart ?? (betaSchedule === 'linear' ? 1e-4 : 0.00085);
  const betaEnd = options.betaEnd ?? (betaSchedule === 'linear' ? 0.02 : 0.012);
  if (!Number.isInteger(steps) || steps < 2) throw new InputError(`DDPM schedule: 'steps' must be an integer >= 2, got ${steps}.`);
  if (!(betaStart > 0 && betaEnd < 1 && betaStart <= betaEnd))
    throw new InputError(`DDPM schedule: betas must satisfy 0 < betaStart <= betaEnd < 1, got ${betaStart} and ${betaEnd}.`);
  if (betaSchedule !== 'linear' && betaSchedule !== 'scaled-linear')
    throw new InputError(`DDPM schedule: 'betaSchedule' must be 'linear' or 'scaled-linear', got '${betaSchedule}'.`);
  const alphasCumprod = new Float64Array(steps);
  let prod = 1;
  for (let t = 0; t < steps; t++) {
    const f = t / (steps - 1);
    const beta =
      betaSchedule === 'linear' ? betaStart + f * (betaEnd - betaStart) : (Math.sqrt(betaStart) + f * (Math.sqrt(betaEnd) - Math.sqrt(betaStart))) ** 2;
    prod *= 1 - beta;
    alphasCumprod[t] = prod;
  }
  return { steps, betaSchedule, alphasCumprod };
}

/** alpha_t = sqrt(alphā_t), sigma_t = sqrt(1 - alphā_t). */
export function noiseLevels(schedule: DdpmSchedule, t: number): { alpha: number; sigma: number; alphaBar: number } {
  const alphaBar = schedule.alphasCumprod[Math.min(Math.max(Math.round(t), 0), schedule.steps - 1)];
  return { alpha: Math.sqrt(alphaBar), sigma: Math.sqrt(1 - alphaBar), alphaBar };
}

/** SDS weighting w(t) (threestudio): 'sds' 1 - alphā, 'uniform' 1, 'fantasia3d' sqrt(alphā)(1 - alphā). */
export type Weighting = 'sds' | 'uniform' | 'fantasia3d';

export function sdsWeight(schedule: DdpmSchedule, t: number, weighting: Weighting): number {
  const { alphaBar } = noiseLevels(schedule, t);
  if (weighting === 'uniform') return 1;
  if (weighting === 'fantasia3d') return Math.sqrt(alphaBar) * (1 - alphaBar);
  return 1 - alphaBar;
}

/**
 * Classifier-free guidance in the diffusers convention: eps_u + s (eps_c - eps_u).
 * (threestudio's SDS guidance uses eps_c + s (eps_c - eps_u), i.e. this with s + 1.)
 */
export function classifierFreeGuidance(uncond: Float32Array, cond: Float32Array, scale: number, out = new Float32Array(cond.length)): Float32Array {
  for (let i = 0; i < cond.length; i++) out[i] = uncond[i] + scale * (cond[i] - uncond[i]);
  return out;
}

export interface PriorImages {
  views: number;
  width: number;
  height: number;
  /** [V][H][W][3], model space [-1, 1]. */
  data: Float32Array;
}

export interface NoiseRequest {
  noisy: PriorImages;
  /** One integer timestep per view. */
  t: number[];
  prompt: string;
  /** The views' cameras (the exemplar prior weights exemplars by camera proximity). */
  cameras: Camera[];
  /** CFG scale (diffusers convention); 1 = the conditional prediction alone. */
  guidanceScale: number;
}

export interface ScorePrior {
  readonly name: string;
  readonly schedule: DdpmSchedule;
  /** The image size the prior works at; renders are resized to it. */
  readonly resolution: { width: number; height: number };
  /** The guided noise prediction eps_hat, laid out like `noisy.data`. */
  predictNoise(request: NoiseRequest): Promise<Float32Array>;
  destroy?(): Promise<void> | void;
}

/** x̂_0 = (x_t - sigma eps_hat) / alpha: the one-step denoised prediction. */
export function predictX0(noisy: Float32Array, epsHat: Float32Array, alpha: number, sigma: number, out = new Float32Array(noisy.length)): Float32Array {
  for (let i = 0; i < noisy.length; i++) out[i] = (noisy[i] - sigma * epsHat[i]) / alpha;
  return out;
}
