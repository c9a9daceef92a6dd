/**
 * `reward-gradient`: back-propagates differentiable rewards through the renderer
 * (ReFL / DRaFT / DreamFL style). The loss is -scale * R (shaping 'linear') or DreamFL's
 * hinge scale * mean_v ReLU(margin - r_v) (shaping 'hinge': views already above the margin
 * stop pulling), switched on from `startStep` (DreamFL turns its reward on late), with the
 * image gradient clipped to +-gradClip.
 */
import { InputError } from '../errors.ts';
import type { Gpu } from '../gpu/gpu.ts';
import type { EnsembleScore } from '../rewards/ensemble.ts';
import type { RenderFrame } from '../scene/representation.ts';
import type { Algorithm, StepContext, StepReport } from './algorithm.ts';
import { CotangentKernels, type CotangentAccumulator, type CotangentKind } from './cotangents.ts';
import { runImageTerms } from './image-step.ts';
import { parseOptions, type ParsedOptions } from './options.ts';
import type { ImageTerm, TermReport } from './terms.ts';

export const rewardGradientSchema = {
  scale: { type: 'number', default: 1, min: 0, exclusiveMin: true, description: 'Multiplies the reward in the loss -scale * R.' },
  shaping: {
    type: 'enum',
    values: ['linear', 'hinge'],
    default: 'linear',
    description: "'linear': loss = -scale * R; 'hinge': loss = scale * mean over views of max(0, margin - r_view) (DreamFL).",
  },
  margin: { type: 'number', default: 0, description: "Hinge margin in normalised reward units (shaping 'hinge' only)." },
  gradClip: { type: 'number', default: 0, min: 0, description: 'Clamp of each image-gradient element; 0 disables the clamp (NaN/inf are always zeroed).' },
  startStep: { type: 'integer', default: 0, min: 0, description: 'Steps before this one write no reward gradient.' },
} as const;

export type RewardGradientOptions = ParsedOptions<typeof rewardGradientSchema>;

const KINDS: CotangentKind[] = ['rgb', 'alpha', 'depth', 'normal', 'distortion'];

export class RewardGradientTerm implements ImageTerm {
  readonly name = 'reward-gradient';
  readonly usesRewardGradient = true;
  constructor(readonly options: RewardGradientOptions) {}

  async addImageGradient(ctx: StepContext, frame: RenderFrame, scored: EnsembleScore, acc: CotangentAccumulator, weight: number): Promise<TermReport> {
    const o = this.options;
    if (ctx.step < o.startStep) return { metrics: { active: 0 } };
    if (!scored.grads) {
      if (!ctx.rewards.differentiable) {
        throw new InputError(
          "algorithm 'reward-gradient' needs at least one differentiable reward with a non-zero weight; use 'grpo' or 'dpo' for black-box rewards.",
        );
      }
      // A differentiable plugin failed this step (reported in the ensemble's failures).
      return { metrics: { active: 0 } };
    }
    const V = frame.views;
    const viewMask = new Float32Array(V).fill(1);
    let loss = 0;
    if (o.shaping === 'hinge') {
      for (let v = 0; v < V; v++) {
        const gap = o.margin - scored.perView[v];
        viewMask[v] = gap > 0 ? 1 : 0;
        loss += Math.max(0, gap) / V;
      }
      loss *= o.scale;
    } else loss = -o.scale * scored.total;
    // Loss to minimise = -scale * R, so the cotangent is -scale * dR/dimage.
    for (const kind of KINDS) {
      const g = scored.grads[kind];
      if (g) await acc.addScaled(kind, g, -o.scale * weight, viewMask);
    }
    let active = 0;
    for (const m of viewMask) active += m;
    return { loss, metrics: { active: active / V } };
  }
}

export class RewardGradient implements Algorithm {
  readonly name = 'reward-gradient';
  private constructor(
    private readonly term: RewardGradientTerm,
    private readonly kernels: CotangentKernels,
  ) {}

  static async create(options: Record<string, unknown>, gpu: Gpu): Promise<RewardGradient> {
    const parsed = parseOptions(`algorithm 'reward-gradient'`, rewardGradientSchema, options);
    return new RewardGradient(new RewardGradientTerm(parsed), await CotangentKernels.create(gpu));
  }

  step(ctx: StepContext): Promise<StepReport> {
    return runImageTerms(ctx, this.kernels, [{ term: this.term, weight: 1 }], this.term.options.gradClip);
  }
}
