/**
 * `dpo`: preference optimisation from pairs ranked by the ensemble (DreamDPO-style), so any
 * black-box ranking drives the update; only the ORDER of the two scores is used. Each step
 * draws `pairs` antithetic candidate pairs a_+- = mu +- sigma eps_p from the Gaussian policy
 * N(mu, sigma^2 I) over the chosen blocks, ranks each pair (winner w, loser l), and applies
 * the DPO loss with a reference policy N(mu_ref, sigma^2 I) (Diffusion-DPO's form):
 *   L = -log sigmoid(beta * [(log pi(a_w) - log pi_ref(a_w)) - (log pi(a_l) - log pi_ref(a_l))])
 * For Gaussians the bracket is Delta = 2 s_w eps.(mu - mu_ref) / sigma and
 * dL/dmu = -(1 - sigmoid(beta Delta)) beta 2 s_w eps / sigma: the step pulls towards the winner
 * and saturates once the policy already prefers it relative to the reference (the
 * reference term). Pairs whose score gap is at most `minGap` are skipped (DreamDPO's
 * beta_dpo threshold). DreamDPO's own noise-space form (two noises at one t through a score
 * prior, winner minus loser) is `reward-weighted-sds` with strategy 'dreamdpo'.
 */
import { InputError } from '../errors.ts';
import type { Gpu } from '../gpu/gpu.ts';
import type { Algorithm, StepContext, StepReport } from './algorithm.ts';
import { parseOptions, type ParsedOptions } from './options.ts';
import { ParamPolicy } from './param-policy.ts';
import { drawSeed, evaluateAntithetic, PolicyStateHolder, type SavedSnapshots } from './param-space.ts';
import { prefixed, rewardMetrics, type ParamTerm } from './terms.ts';
import { sigmoid } from '../math/activations.ts';

export const dpoSchema = {
  block: { type: 'names', default: 'all', description: "Parameter blocks the candidates differ in: 'all' or a list of block names." },
  sigma: { type: 'number', default: 0.05, min: 0, exclusiveMin: true, description: 'Standard deviation of the candidate perturbations (parameter units).' },
  pairs: { type: 'integer', default: 2, min: 1, max: 128, description: 'Candidate pairs ranked per step.' },
  beta: { type: 'number', default: 1, min: 0, exclusiveMin: true, description: 'DPO temperature beta on the policy/reference log-ratio difference.' },
  minGap: { type: 'number', default: 0, min: 0, description: 'Pairs whose reward gap is at most this are skipped (ties carry no preference).' },
  reference: { type: 'enum', values: ['initial', 'moving'], default: 'initial', description: "Reference policy mean: the starting parameters ('initial') or a moving average ('moving')." },
  referenceRate: { type: 'number', default: 0.1, min: 0, max: 1, description: "Moving reference: ref += rate * (mu - ref) each step (reference 'moving')." },
} as const;

export type DpoOptions = ParsedOptions<typeof dpoSchema>;

const logSigmoid = (z: number) => (z >= 0 ? -Math.log1p(Math.exp(-z)) : z - Math.log1p(Math.exp(z)));
/**
 * d(DPO loss)/d(mu) as coefficients of each pair's noise, from eps_p.(mu - mu_ref) and the
 * pair's rewards (only their order and gap are used).
 */
export function dpoCoefficients(
  pairs: { dots: ArrayLike<number>; plus: number[]; minus: number[] },
  o: Pick<DpoOptions, 'sigma' | 'beta' | 'minGap'>,
  weight: number,
): { coefs: number[]; used: number; loss: number; agree: number; gapSum: number } {
  const coefs = new Array<number>(pairs.plus.length).fill(0);
  const terms: { p: number; sw: number; z: number }[] = [];
  let gapSum = 0;
  for (let p = 0; p < pairs.plus.length; p++) {
    const gap = pairs.plus[p] - pairs.minus[p];
    if (Math.abs(gap) <= o.minGap) continue;
    const sw = gap > 0 ? 1 : -1;
    terms.push({ p, sw, z: (o.beta * 2 * sw * pairs.dots[p]) / o.sigma });
    gapSum += Math.abs(gap);
  }
  const used = terms.length;
  let loss = 0;
  let agree = 0;
  for (const { p, sw, z } of terms) {
    loss += -logSigmoid(z) / used;
    if (z > 0) agree++;
    coefs[p] = ((-(1 - sigmoid(z)) * o.beta * 2 * sw) / o.sigma / used) * weight;
  }
  return { coefs, used, loss, agree, gapSum };
}

export class DpoTerm implements ParamTerm {
  readonly name = 'dpo';
  private readonly state: PolicyStateHolder;

  constructor(
    readonly options: DpoOptions,
    private readonly policy: ParamPolicy,
  ) {
    this.state = new PolicyStateHolder(`algorithm 'dpo'`, options.block);
  }

  async addParamGradient(ctx: StepContext, weight: number): Promise<StepReport> {
    const o = this.options;
    const snaps = await this.state.get(ctx);
    // `old` holds the current parameters: the base the candidates perturb.
    await ctx.gpu.run('dpo:base', (enc) => snaps.old.capture(enc));
    const seeds = Array.from({ length: o.pairs }, () => drawSeed(ctx));
    const ev = await evaluateAntithetic(ctx, this.policy, { selection: snaps.selection, base: snaps.old }, seeds, o.sigma);
    // eps_p . (mu - mu_ref): dots against the reference passed as "old".
    const { dots } = await this.policy.dots(snaps.selection, seeds, snaps.ref, snaps.ref);
    const { coefs, used, loss, agree, gapSum } = dpoCoefficients({ dots, plus: ev.plus, minus: ev.minus }, o, weight);
    if (used > 0) await this.policy.accumulateGrad(snaps.selection, seeds, coefs, snaps.old, 0, snaps.ref, 0);
    if (o.reference === 'moving') await this.policy.moveReference(snaps.selection, snaps.ref, o.referenceRate);
    const metrics = {
      pairsUsed: used / seeds.length,
      meanGap: used ? gapSum / used : 0,
      implicitAccuracy: used ? agree / used : 0,
    };
    return { reward: ev.mean, ...(used ? { loss } : {}), metrics: { ...rewardMetrics(ev.scored), ...prefixed('dpo', metrics) } };
  }

  async stateDict(): Promise<Record<string, unknown>> {
    return { version: 1, snapshots: await this.state.save() };
  }

  async loadStateDict(state: Record<string, unknown>): Promise<void> {
    if (state?.version !== 1) throw new InputError(`algorithm 'dpo' state: expected { version: 1, ... } from stateDict().`);
    this.state.load((state.snapshots as SavedSnapshots | null) ?? null);
  }

  destroy(): void {
    this.state.release();
  }
}

export class Dpo implements Algorithm {
  readonly name = 'dpo';
  private constructor(private readonly term: DpoTerm) {}

  static async create(options: Record<string, unknown>, gpu: Gpu): Promise<Dpo> {
    const parsed = parseOptions(`algorithm 'dpo'`, dpoSchema, options);
    return new Dpo(new DpoTerm(parsed, await ParamPolicy.create(gpu)));
  }

  step(ctx: StepContext): Promise<StepReport> {
    return this.term.addParamGradient(ctx, 1);
  }
  stateDict(): Promise<Record<string, unknown>> {
    return this.term.stateDict();
  }
  loadStateDict(state: Record<string, unknown>): Promise<void> {
    return this.term.loadStateDict(state);
  }
  destroy(): void {
    this.term.destroy();
  }
}
