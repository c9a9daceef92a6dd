/**
 * `grpo`: group-relative policy optimisation for rewards with no gradient. The policy is a
 * Gaussian N(mu, sigma^2 I) over a chosen parameter block (mu = the current parameters).
 * Every `epochs` steps it draws a group of G/2 antithetic pairs mu +- sigma eps_p, scores
 * them in one ensemble call, and turns the rewards into group-normalised advantages
 * A = (r - mean) / (std + 1e-4), clipped to +-advantageClip (flow_grpo / DDPO constants).
 * Each step (one PPO epoch; the trainer's Adam is the inner optimiser) minimises
 *   L = -1/G sum_i min(rho_i A_i, clip(rho_i, 1 +- clipRange) A_i) + beta KL(pi_mu || pi_ref),
 *   rho_i = pi_mu(a_i) / pi_old(a_i),  KL = |mu - mu_ref|^2 / (2 sigma^2),
 * whose gradient is written into the grad buffers of the selected blocks. With d = mu - mu_old
 * and a_i = mu_old + s_i sigma eps_i:  log rho_i = s_i eps_i.d / sigma - |d|^2 / (2 sigma^2),
 * d rho_i / d mu = rho_i (s_i sigma eps_i - d) / sigma^2. In the first epoch rho = 1 and the
 * estimate is the antithetic ES gradient.
 */
import { InputError } from '../errors.ts';
import type { Gpu } from '../gpu/gpu.ts';
import type { Algorithm, StepContext, StepReport } from './algorithm.ts';
import { parseOptions, type ParsedOptions } from './options.ts';
import { ParamPolicy } from './param-policy.ts';
import { drawSeed, evaluateAntithetic, evaluateCurrent, PolicyStateHolder, type SavedSnapshots } from './param-space.ts';
import { prefixed, rewardMetrics, type ParamTerm } from './terms.ts';

export const grpoSchema = {
  block: { type: 'names', default: 'all', description: "Parameter blocks the policy perturbs: 'all' or a list of block names (e.g. [\"colors\"])." },
  sigma: { type: 'number', default: 0.05, min: 0, exclusiveMin: true, description: 'Standard deviation of the Gaussian policy (perturbation size, in parameter units).' },
  groupSize: { type: 'integer', default: 8, min: 2, max: 256, description: 'Candidates per group; even (antithetic pairs +eps/-eps).' },
  epochs: { type: 'integer', default: 2, min: 1, description: 'Steps (PPO epochs) that reuse one group before a new one is drawn.' },
  clipRange: { type: 'number', default: 0.2, min: 0, exclusiveMin: true, description: 'PPO ratio clip: rho is clipped to [1 - clipRange, 1 + clipRange].' },
  advantageClip: { type: 'number', default: 5, min: 0, exclusiveMin: true, description: 'Advantages are clipped to +-advantageClip.' },
  klWeight: { type: 'number', default: 0.01, min: 0, description: 'Weight beta of the KL penalty |mu - mu_ref|^2 / (2 sigma^2).' },
  reference: { type: 'enum', values: ['initial', 'moving'], default: 'initial', description: "KL reference: the parameters at the start ('initial') or an exponential moving average ('moving')." },
  referenceRate: { type: 'number', default: 0.1, min: 0, max: 1, description: "Moving reference: ref += rate * (mu - ref) at each new group (reference 'moving')." },
} as const;

export type GrpoOptions = ParsedOptions<typeof grpoSchema>;

export function checkGrpoOptions(owner: string, options: unknown): GrpoOptions {
  const o = parseOptions(owner, grpoSchema, options);
  if (o.groupSize % 2 !== 0) throw new InputError(`${owner}: option 'groupSize' must be even (antithetic pairs), got ${o.groupSize}.`);
  return o;
}

interface Group {
  seeds: number[];
  /** Advantage of +eps_p and of -eps_p. */
  advPlus: number[];
  advMinus: number[];
  age: number;
}

/** Group-normalised advantages (flow_grpo: std + 1e-4), clipped. */
export function groupAdvantages(rewards: number[], clip: number): number[] {
  const n = rewards.length;
  const mean = rewards.reduce((a, b) => a + b, 0) / n;
  const std = Math.sqrt(rewards.reduce((a, r) => a + (r - mean) ** 2, 0) / n);
  return rewards.map((r) => Math.max(-clip, Math.min(clip, (r - mean) / (std + 1e-4))));
}

export interface PpoCoefficients {
  /** Coefficient of each seed's noise in d(loss)/d(mu). */
  coefs: number[];
  /** Coefficient of (mu - mu_old). */
  cOld: number;
  /** The clipped surrogate objective 1/G sum min(rho A, clip(rho) A). */
  objective: number;
  clipped: number;
  ratioMean: number;
}

/**
 * d(-clipped surrogate)/d(mu) as noise and (mu - mu_old) coefficients, from the dot products
 * eps_p.(mu - mu_old) and |mu - mu_old|^2 (see the file comment). The KL term is separate.
 */
export function ppoCoefficients(
  g: { dots: ArrayLike<number>; distOld: number; advPlus: number[]; advMinus: number[] },
  o: Pick<GrpoOptions, 'sigma' | 'clipRange'>,
  weight: number,
): PpoCoefficients {
  const sigma = o.sigma;
  const G = 2 * g.advPlus.length;
  const coefs = new Array<number>(g.advPlus.length).fill(0);
  let cOld = 0;
  let objective = 0;
  let clipped = 0;
  let ratioMean = 0;
  for (let p = 0; p < g.advPlus.length; p++) {
    for (const [s, A] of [[1, g.advPlus[p]], [-1, g.advMinus[p]]] as const) {
      const rho = Math.exp((s * g.dots[p]) / sigma - g.distOld / (2 * sigma * sigma));
      const rhoClipped = Math.min(Math.max(rho, 1 - o.clipRange), 1 + o.clipRange);
      objective += Math.min(rho * A, rhoClipped * A) / G;
      ratioMean += rho / G;
      // The min picks the clipped branch (zero gradient) when the ratio left the trust region in A's favour.
      if ((A > 0 && rho > 1 + o.clipRange) || (A < 0 && rho < 1 - o.clipRange)) {
        clipped++;
        continue;
      }
      // d(-rho A / G)/d mu = -(rho A / G) (s eps / sigma - d / sigma^2)
      coefs[p] += (-(rho * A) / G) * (s / sigma) * weight;
      cOld += ((rho * A) / G / (sigma * sigma)) * weight;
    }
  }
  return { coefs, cOld, objective, clipped, ratioMean };
}

export class GrpoTerm implements ParamTerm {
  readonly name = 'grpo';
  private readonly state: PolicyStateHolder;
  private group: Group | undefined;

  constructor(
    readonly options: GrpoOptions,
    private readonly policy: ParamPolicy,
  ) {
    this.state = new PolicyStateHolder(`algorithm 'grpo'`, options.block);
  }

  async addParamGradient(ctx: StepContext, weight: number): Promise<StepReport> {
    const o = this.options;
    const snaps = await this.state.get(ctx);
    if (snaps.fresh) this.group = undefined;
    const metrics: Record<string, number> = {};
    let reward: number;
    let scoredMetrics: Record<string, number>;
    if (!this.group || this.group.age >= o.epochs) {
      // New group: the sampling mean becomes the current parameters.
      await ctx.gpu.run('grpo:old', (enc) => snaps.old.capture(enc));
      if (o.reference === 'moving' && !snaps.fresh) await this.policy.moveReference(snaps.selection, snaps.ref, o.referenceRate);
      const seeds = Array.from({ length: o.groupSize / 2 }, () => drawSeed(ctx));
      const ev = await evaluateAntithetic(ctx, this.policy, { selection: snaps.selection, base: snaps.old }, seeds, o.sigma);
      const adv = groupAdvantages([...ev.plus, ...ev.minus], o.advantageClip);
      this.group = { seeds, advPlus: adv.slice(0, seeds.length), advMinus: adv.slice(seeds.length), age: 0 };
      const all = [...ev.plus, ...ev.minus];
      metrics.groupRewardMean = all.reduce((a, b) => a + b, 0) / all.length;
      metrics.groupRewardMax = Math.max(...all);
      metrics.newGroup = 1;
      reward = ev.mean;
      scoredMetrics = rewardMetrics(ev.scored);
    } else {
      const scored = await evaluateCurrent(ctx);
      reward = scored.total;
      scoredMetrics = rewardMetrics(scored);
      metrics.newGroup = 0;
    }
    const g = this.group;
    const { dots, distOld, distRef } = await this.policy.dots(snaps.selection, g.seeds, snaps.old, snaps.ref);
    const { coefs, cOld, objective, clipped, ratioMean } = ppoCoefficients({ dots, distOld, advPlus: g.advPlus, advMinus: g.advMinus }, o, weight);
    const sigma = o.sigma;
    const G = o.groupSize;
    const cRef = (o.klWeight / (sigma * sigma)) * weight;
    await this.policy.accumulateGrad(snaps.selection, g.seeds, coefs, snaps.old, cOld, snaps.ref, cRef);
    g.age++;
    const kl = distRef / (2 * sigma * sigma);
    Object.assign(metrics, { objective, kl, clipFraction: clipped / G, ratioMean, epoch: g.age });
    return { reward, loss: -objective + o.klWeight * kl, metrics: { ...scoredMetrics, ...prefixed('grpo', metrics) } };
  }

  async stateDict(): Promise<Record<string, unknown>> {
    return { version: 1, snapshots: await this.state.save(), group: this.group ? { ...this.group } : null };
  }

  async loadStateDict(state: Record<string, unknown>): Promise<void> {
    if (state?.version !== 1) throw new InputError(`algorithm 'grpo' state: expected { version: 1, ... } from stateDict().`);
    this.state.load((state.snapshots as SavedSnapshots | null) ?? null);
    this.group = (state.group as Group | null) ?? undefined;
  }

  destroy(): void {
    this.state.release();
  }
}

export class Grpo implements Algorithm {
  readonly name = 'grpo';
  private constructor(private readonly term: GrpoTerm) {}

  static async create(options: Record<string, unknown>, gpu: Gpu): Promise<Grpo> {
    const parsed = checkGrpoOptions(`algorithm 'grpo'`, options);
    return new Grpo(new GrpoTerm(parsed, await ParamPolicy.create(gpu)));
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
