/**
 * `sds` and `reward-weighted-sds`: score distillation through a ScorePrior.
 *
 * sds (DreamFusion, threestudio): per view, t in the annealed range, x_t = alpha x_0 +
 * sigma eps with x_0 = the render in model space, eps_hat from the prior with CFG, and the
 * image gradient w(t)(eps_hat - eps) (clamped to +-gradClip), resized back to the render and
 * scaled by 2 (model space = 2 rgb - 1), by the prior weight of the step, and by 1/V.
 *
 * reward-weighted-sds (RewardSDS): N noises at the same t; each one-step prediction
 * x̂_0 = (x_t - sigma eps_hat)/alpha is scored by the ensemble (one call for all N, so the
 * reward needs no gradient) and the per-noise gradients are mixed per view by
 * 'weighted' softmax(r / temperature), 'best-k' (mean of the top k), 'min-max'
 * (maxWeight * mean top-k - minWeight * mean bottom-k), or 'dreamdpo' (DreamDPO's pairwise
 * rule: w(t)[(eps_hat_w - eps_w) - (eps_hat_l - eps_l)] for the best and worst sample, the
 * loser predicted without CFG, the winner alone when the gap is at most `minGap`). After
 * `rewardFraction` of training the mix is the plain mean (RewardSDS's reward_duration).
 *
 * The prior runs on the CPU, so the render is read back once per step.
 */
import { InputError } from '../errors.ts';
import type { Gpu } from '../gpu/gpu.ts';
import type { EnsembleScore } from '../rewards/ensemble.ts';
import type { RenderFrame } from '../scene/representation.ts';
import { noiseLevels, predictX0, sdsWeight, type ScorePrior, type Weighting } from '../prior/score-prior.ts';
import { resizeBilinear, resizeBilinearAdjoint } from '../prior/image-resize.ts';
import type { Algorithm, StepContext, StepReport } from './algorithm.ts';
import { CandidateBatch } from './candidates.ts';
import { CotangentKernels, type CotangentAccumulator } from './cotangents.ts';
import { runImageTerms } from './image-step.ts';
import { parseOptions, type ParsedOptions } from './options.ts';
import type { ImageTerm, TermReport } from './terms.ts';
import { sampleTimestep, timestepRange } from './timestep-schedule.ts';

export const sdsSchema = {
  guidanceScale: { type: 'number', default: 7.5, min: 0, description: 'Classifier-free guidance scale, diffusers convention eps_u + s (eps_c - eps_u).' },
  weighting: { type: 'enum', values: ['sds', 'uniform', 'fantasia3d'], default: 'sds', description: "w(t): 'sds' 1 - alphā_t, 'uniform' 1, 'fantasia3d' sqrt(alphā_t)(1 - alphā_t)." },
  timestepRange: { type: 'range', default: [0.02, 0.98], min: 0, max: 1, description: 'Range of t as fractions of the DDPM steps at the start of training.' },
  anneal: { type: 'enum', values: ['none', 'linear', 'sqrt', 'step'], default: 'none', description: "How the t range moves from 'timestepRange' to 'annealTo' over training." },
  annealTo: { type: 'range', default: [0.02, 0.5], min: 0, max: 1, description: 'The t range at the end of training (or after annealAt for anneal "step").' },
  annealAt: { type: 'number', default: 0.5, min: 0, max: 1, description: "Fraction of training at which anneal 'step' switches range." },
  gradClip: { type: 'number', default: 0, min: 0, description: 'Clamp of w(t)(eps_hat - eps) per element; 0 disables.' },
  scale: { type: 'number', default: 1, min: 0, description: 'Multiplies the score-distillation gradient (on top of the prior weight schedule).' },
} as const;

export const rewardWeightedSdsSchema = {
  ...sdsSchema,
  samples: { type: 'integer', default: 4, min: 2, max: 64, description: 'Noise samples per step scored by the reward (RewardSDS uses 7).' },
  strategy: { type: 'enum', values: ['weighted', 'best-k', 'min-max', 'dreamdpo'], default: 'weighted', description: 'How rewards weight the per-noise gradients.' },
  temperature: { type: 'number', default: 1, min: 0, exclusiveMin: true, description: "Softmax temperature over the samples' rewards (strategy 'weighted')." },
  topK: { type: 'integer', default: 2, min: 1, description: "k of 'best-k' and 'min-max'." },
  maxWeight: { type: 'number', default: 0.9, min: 0, description: "Weight of the top-k mean in 'min-max'." },
  minWeight: { type: 'number', default: 0.1, min: 0, description: "Weight of the bottom-k mean (subtracted) in 'min-max'." },
  minGap: { type: 'number', default: 0, min: 0, description: "'dreamdpo': when best and worst rewards differ by at most this, only the winner's term is used." },
  rewardFraction: { type: 'number', default: 1, min: 0, max: 1, description: 'Fraction of training during which the reward weights the samples; afterwards they are averaged.' },
} as const;

export type SdsOptions = ParsedOptions<typeof sdsSchema>;
export type RewardWeightedSdsOptions = ParsedOptions<typeof rewardWeightedSdsSchema>;

/** Per-sample mixing weights for one view, from the samples' rewards. */
export function sampleWeights(
  rewards: number[],
  o: Pick<RewardWeightedSdsOptions, 'strategy' | 'temperature' | 'topK' | 'maxWeight' | 'minWeight'> & { minGap?: number },
): number[] {
  const n = rewards.length;
  if (o.strategy === 'dreamdpo') {
    const order = rewards.map((r, i) => [r, i] as const).sort((a, b) => b[0] - a[0]);
    const w = new Array<number>(n).fill(0);
    const [best, worst] = [order[0], order[n - 1]];
    w[best[1]] = 1;
    if (best[0] - worst[0] > (o.minGap ?? 0)) w[worst[1]] = -1;
    return w;
  }
  if (o.strategy === 'weighted') {
    const m = Math.max(...rewards);
    const e = rewards.map((r) => Math.exp((r - m) / o.temperature));
    const z = e.reduce((a, b) => a + b, 0);
    return e.map((x) => x / z);
  }
  const k = Math.min(o.topK, n);
  const order = rewards.map((r, i) => [r, i] as const).sort((a, b) => b[0] - a[0]).map(([, i]) => i);
  const w = new Array<number>(n).fill(0);
  for (const i of order.slice(0, k)) w[i] += (o.strategy === 'min-max' ? o.maxWeight : 1) / k;
  if (o.strategy === 'min-max') for (const i of order.slice(n - k)) w[i] -= o.minWeight / k;
  return w;
}

/** Standard normal samples from the step's uniform stream (Box-Muller). */
function normals(n: number, random: () => number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i += 2) {
    const r = Math.sqrt(-2 * Math.log(1 - random()));
    const a = 2 * Math.PI * random();
    out[i] = r * Math.cos(a);
    if (i + 1 < n) out[i + 1] = r * Math.sin(a);
  }
  return out;
}

export function requirePrior(ctx: StepContext, name: string): ScorePrior {
  if (!ctx.prior)
    throw new InputError(`algorithm '${name}' needs a score prior: add "prior": {"kind": "exemplar", ...} or {"kind": "onnx", "path": ...} to the scene config.`);
  return ctx.prior;
}

export class ScoreDistillationTerm implements ImageTerm {
  readonly usesRewardGradient = false;
  constructor(
    readonly name: 'sds' | 'reward-weighted-sds',
    readonly options: SdsOptions & Partial<RewardWeightedSdsOptions>,
  ) {}

  async addImageGradient(ctx: StepContext, frame: RenderFrame, _scored: EnsembleScore, acc: CotangentAccumulator, weight: number): Promise<TermReport> {
    const o = this.options;
    const prior = requirePrior(ctx, this.name);
    const { views: V, width, height } = frame;
    const { width: PW, height: PH } = prior.resolution;
    const renderShape = { views: V, width, height, channels: 3 };
    const priorShape = { views: V, width: PW, height: PH, channels: 3 };
    const rgb = await ctx.gpu.readF32(frame.rgb, V * width * height * 3);
    const x0 = resizeBilinear(rgb.map((c) => 2 * c - 1), renderShape, PW, PH);
    const per = PW * PH * 3;

    const range = timestepRange(o, ctx.step, ctx.totalSteps);
    const t = Array.from({ length: V }, () => sampleTimestep(range, prior.schedule.steps, ctx.random()));
    const levels = t.map((tv) => noiseLevels(prior.schedule, tv));
    const w = t.map((tv) => sdsWeight(prior.schedule, tv, o.weighting as Weighting));

    const rewardActive = this.name === 'reward-weighted-sds' && ctx.step < (o.rewardFraction ?? 1) * ctx.totalSteps;
    const N = this.name === 'sds' ? 1 : o.samples!;
    const grads: Float32Array[] = [];
    // DreamDPO's loser term uses the prediction without CFG.
    const needText = rewardActive && o.strategy === 'dreamdpo' && o.guidanceScale !== 1;
    const gradsText: Float32Array[] = [];
    const denoised: Float32Array[] = [];
    for (let s = 0; s < N; s++) {
      const eps = normals(x0.length, ctx.random);
      const noisy = new Float32Array(x0.length);
      for (let v = 0; v < V; v++) {
        const { alpha, sigma } = levels[v];
        for (let i = v * per; i < (v + 1) * per; i++) noisy[i] = alpha * x0[i] + sigma * eps[i];
      }
      const epsHat = await prior.predictNoise({
        noisy: { views: V, width: PW, height: PH, data: noisy },
        t,
        prompt: ctx.prompt,
        cameras: frame.cameras,
        guidanceScale: o.guidanceScale,
      });
      grads.push(this.sampleGradient(epsHat, eps, w, per));
      if (needText) {
        const epsText = await prior.predictNoise({
          noisy: { views: V, width: PW, height: PH, data: noisy },
          t,
          prompt: ctx.prompt,
          cameras: frame.cameras,
          guidanceScale: 1,
        });
        gradsText.push(this.sampleGradient(epsText, eps, w, per));
      }
      if (rewardActive) {
        const x0hat = new Float32Array(x0.length);
        for (let v = 0; v < V; v++) {
          const { alpha, sigma } = levels[v];
          predictX0(noisy.subarray(v * per, (v + 1) * per), epsHat.subarray(v * per, (v + 1) * per), alpha, sigma, x0hat.subarray(v * per, (v + 1) * per));
        }
        denoised.push(x0hat);
      }
    }

    // Mixing weights mix[s][v].
    const metrics: Record<string, number> = { tMin: Math.min(...t), tMax: Math.max(...t) };
    const mix: number[][] = Array.from({ length: N }, () => new Array<number>(V).fill(1 / N));
    if (rewardActive) {
      const rewards = await this.scoreDenoised(ctx, frame, denoised, priorShape, renderShape);
      let best = 0;
      let meanR = 0;
      for (let v = 0; v < V; v++) {
        const r = rewards.map((rs) => rs[v]);
        const wv = sampleWeights(r, this.options as RewardWeightedSdsOptions);
        wv.forEach((x, s) => (mix[s][v] = x));
        best += Math.max(...r) / V;
        meanR += r.reduce((a, b) => a + b, 0) / (N * V);
      }
      metrics.sampleRewardBest = best;
      metrics.sampleRewardMean = meanR;
    }
    const g = new Float32Array(x0.length);
    for (let s = 0; s < N; s++)
      for (let v = 0; v < V; v++) {
        const m = mix[s][v];
        if (m === 0) continue;
        const src = m < 0 && needText ? gradsText[s] : grads[s];
        for (let i = v * per; i < (v + 1) * per; i++) g[i] += m * src[i];
      }
    let loss = 0;
    for (let i = 0; i < g.length; i++) loss += 0.5 * g[i] * g[i];
    loss /= V;
    // Model space x = 2 rgb - 1, so d/d rgb = 2 d/dx; threestudio's loss divides by the batch.
    const factor = (2 * o.scale * (ctx.priorWeight ?? 1) * weight) / V;
    const back = resizeBilinearAdjoint(g, { width: PW, height: PH }, renderShape);
    await acc.addHost('rgb', back, factor);
    return { loss, metrics };
  }

  /** w(t)(eps_hat - eps) per view, NaN-free and clamped to +-gradClip. */
  private sampleGradient(epsHat: Float32Array, eps: Float32Array, w: number[], per: number): Float32Array {
    const clip = this.options.gradClip;
    const g = new Float32Array(eps.length);
    for (let v = 0; v < w.length; v++)
      for (let i = v * per; i < (v + 1) * per; i++) {
        let x = w[v] * (epsHat[i] - eps[i]);
        if (!Number.isFinite(x)) x = 0;
        if (clip > 0) x = Math.min(Math.max(x, -clip), clip);
        g[i] = x;
      }
    return g;
  }

  /** Scores the one-step predictions of all samples in one ensemble call; rewards[s][v]. */
  private async scoreDenoised(
    ctx: StepContext,
    frame: RenderFrame,
    denoised: Float32Array[],
    priorShape: { views: number; width: number; height: number; channels: number },
    renderShape: { views: number; width: number; height: number; channels: number },
  ): Promise<number[][]> {
    const batch = new CandidateBatch(ctx.gpu, denoised.length, frame);
    // The samples differ only in rgb: one render, so one splat set (unchanged until scored) for all.
    const splats = ctx.representation.rewardSplats?.(frame);
    try {
      for (const x of denoised) {
        const img = resizeBilinear(x, priorShape, renderShape.width, renderShape.height).map((c) => Math.min(1, Math.max(0, (c + 1) / 2)));
        const buf = ctx.gpu.upload('sds:denoised', img);
        try {
          await batch.add(frame, { rgb: buf }, { splats, shared: true });
        } finally {
          buf.destroy();
        }
      }
      const { perView } = await batch.score(ctx.rewards, ctx.prompt);
      const V = frame.views;
      return denoised.map((_, s) => Array.from(perView.subarray(s * V, (s + 1) * V)));
    } finally {
      batch.destroy();
    }
  }
}

abstract class ScoreDistillationAlgorithm implements Algorithm {
  abstract readonly name: string;
  protected constructor(
    private readonly term: ScoreDistillationTerm,
    private readonly kernels: CotangentKernels,
  ) {}
  step(ctx: StepContext): Promise<StepReport> {
    requirePrior(ctx, this.name);
    return runImageTerms(ctx, this.kernels, [{ term: this.term, weight: 1 }], 0);
  }
}

export class Sds extends ScoreDistillationAlgorithm {
  readonly name = 'sds';
  static async create(options: Record<string, unknown>, gpu: Gpu): Promise<Sds> {
    const parsed = parseOptions(`algorithm 'sds'`, sdsSchema, options);
    return new Sds(new ScoreDistillationTerm('sds', parsed), await CotangentKernels.create(gpu));
  }
}

export class RewardWeightedSds extends ScoreDistillationAlgorithm {
  readonly name = 'reward-weighted-sds';
  static async create(options: Record<string, unknown>, gpu: Gpu): Promise<RewardWeightedSds> {
    const parsed = parseOptions(`algorithm 'reward-weighted-sds'`, rewardWeightedSdsSchema, options);
    return new RewardWeightedSds(new ScoreDistillationTerm('reward-weighted-sds', parsed), await CotangentKernels.create(gpu));
  }
}
