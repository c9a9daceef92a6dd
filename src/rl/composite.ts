/**
 * `composite`: sums weighted terms in one step, e.g. score distillation + a differentiable
 * reward + a black-box grpo term. Image-space terms (sds, reward-weighted-sds,
 * reward-gradient) share one render, one ensemble score and one backward pass; parameter-
 * space terms (grpo, dpo) then add their estimates into the same grad buffers. Regularisers
 * are reward components (geometry rewards) reached through a reward-gradient term.
 */
import type { Gpu } from '../gpu/gpu.ts';
import type { Algorithm, StepContext, StepReport } from './algorithm.ts';
import { CotangentKernels } from './cotangents.ts';
import { DpoTerm, dpoSchema } from './dpo.ts';
import { checkGrpoOptions, GrpoTerm } from './grpo.ts';
import { runImageTerms } from './image-step.ts';
import { parseOptions } from './options.ts';
import { ParamPolicy } from './param-policy.ts';
import { RewardGradientTerm, rewardGradientSchema } from './reward-gradient.ts';
import { compositeSchema, parseCompositeTerms } from './schemas.ts';
import { rewardWeightedSdsSchema, ScoreDistillationTerm, sdsSchema, requirePrior } from './score-distillation.ts';
import type { ImageTerm, ParamTerm } from './terms.ts';

export class Composite implements Algorithm {
  readonly name = 'composite';
  private constructor(
    private readonly imageTerms: { term: ImageTerm; weight: number }[],
    private readonly paramTerms: { term: ParamTerm & { stateDict(): Promise<Record<string, unknown>>; loadStateDict(s: Record<string, unknown>): Promise<void>; destroy(): void }; weight: number }[],
    private readonly kernels: CotangentKernels,
    private readonly gradClip: number,
  ) {}

  static async create(options: Record<string, unknown>, gpu: Gpu): Promise<Composite> {
    const owner = `algorithm 'composite'`;
    const parsed = parseOptions(owner, compositeSchema, options);
    const specs = parseCompositeTerms(owner, parsed.terms);
    const imageTerms: Composite['imageTerms'] = [];
    const paramTerms: Composite['paramTerms'] = [];
    let policy: ParamPolicy | undefined;
    for (const [i, s] of specs.entries()) {
      const where = `${owner}: terms[${i}].options`;
      switch (s.algorithm) {
        case 'reward-gradient':
          imageTerms.push({ term: new RewardGradientTerm(parseOptions(where, rewardGradientSchema, s.options)), weight: s.weight });
          break;
        case 'sds':
          imageTerms.push({ term: new ScoreDistillationTerm('sds', parseOptions(where, sdsSchema, s.options)), weight: s.weight });
          break;
        case 'reward-weighted-sds':
          imageTerms.push({ term: new ScoreDistillationTerm('reward-weighted-sds', parseOptions(where, rewardWeightedSdsSchema, s.options)), weight: s.weight });
          break;
        case 'grpo':
          policy ??= await ParamPolicy.create(gpu);
          paramTerms.push({ term: new GrpoTerm(checkGrpoOptions(where, s.options), policy), weight: s.weight });
          break;
        case 'dpo':
          policy ??= await ParamPolicy.create(gpu);
          paramTerms.push({ term: new DpoTerm(parseOptions(where, dpoSchema, s.options), policy), weight: s.weight });
          break;
      }
    }
    return new Composite(imageTerms, paramTerms, await CotangentKernels.create(gpu), parsed.gradClip);
  }

  async step(ctx: StepContext): Promise<StepReport> {
    for (const { term } of this.imageTerms) if (term instanceof ScoreDistillationTerm) requirePrior(ctx, term.name);
    let report: StepReport | undefined;
    if (this.imageTerms.length) report = await runImageTerms(ctx, this.kernels, this.imageTerms, this.gradClip);
    for (const [i, { term, weight }] of this.paramTerms.entries()) {
      if (weight === 0) continue;
      const r = await term.addParamGradient(ctx, weight);
      if (!report) report = { reward: r.reward, metrics: {} };
      Object.assign(report.metrics, Object.fromEntries(Object.entries(r.metrics).map(([k, v]) => [k.startsWith('reward/') ? `terms[${i}]/${k}` : k, v])));
      if (r.loss !== undefined) report.loss = (report.loss ?? 0) + weight * r.loss;
    }
    return report ?? { reward: 0, metrics: {} };
  }

  async stateDict(): Promise<Record<string, unknown>> {
    const terms: Record<string, unknown>[] = [];
    for (const { term } of this.paramTerms) terms.push(await term.stateDict());
    return { version: 1, terms };
  }

  async loadStateDict(state: Record<string, unknown>): Promise<void> {
    const terms = (state?.terms ?? []) as Record<string, unknown>[];
    for (const [i, { term }] of this.paramTerms.entries()) if (terms[i]) await term.loadStateDict(terms[i]);
  }

  destroy(): void {
    for (const { term } of this.paramTerms) term.destroy();
  }
}
