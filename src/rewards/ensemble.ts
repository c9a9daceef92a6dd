/**
 * The reward ensemble: loads plugins, scores a batch with each, normalises every component,
 * sums them with their weights per view, aggregates over views, and combines the image
 * gradients of the differentiable components into one cotangent of `total`.
 * A plugin that throws or returns a non-finite score is reported in `failures` and left out
 * of this step; the others are unaffected.
 */
import type { Gpu } from '../gpu/gpu.ts';
import { InputError } from '../errors.ts';
import type { RenderCotangents } from '../render/types.ts';
import { aggregateViews, type AggregateMode } from './aggregate.ts';
import { accumulateCotangents, destroyCotangents } from './cotangents.ts';
import { emptyStats, normalizeScores, type NormalizeMode, type RunningStats } from './normalize.ts';
import { resolveNeeds, type RewardNeeds, type RewardPlugin, type RewardScore, type RewardSpec, type RewardViews, type ScoreRequest } from './plugin.ts';
import { loadRewardPlugin } from './registry.ts';

export interface EnsembleConfig {
  normalize: NormalizeMode;
  aggregate: AggregateMode;
  /** Temperature of softmin and sphere-smooth (in normalised score units). Default 0.5. */
  softminTemperature?: number;
  /** Kernel width of sphere-smooth in degrees. Default 45. */
  sphereBandwidthDegrees?: number;
  /** Samples after which running statistics forget exponentially. Default 1000. */
  runningWindow?: number;
  /** Skip gradients even when differentiable components exist. */
  gradients?: boolean;
}

export interface ComponentBreakdown {
  /** Raw mean over views. */
  mean: number;
  /** Mean of the normalised scores. */
  normalized: number;
  weight: number;
}

export interface EnsembleScore {
  total: number;
  perView: Float32Array;
  components: Record<string, ComponentBreakdown>;
  /** d(total)/d(images), from the differentiable components only; valid until the next score() or destroy(). */
  grads?: RenderCotangents;
  failures: { plugin: string; error: string }[];
  /** Sub-scores of each component, `component.detail`. */
  details: Record<string, number>;
  warnings: string[];
}

interface Member {
  key: string;
  plugin: RewardPlugin;
  weight: number;
  stats: RunningStats;
}

const NORMALIZE: NormalizeMode[] = ['running', 'rank', 'none'];
const AGGREGATE: AggregateMode[] = ['mean', 'min', 'softmin', 'sphere-smooth'];

export interface EnsembleStateDict {
  version: 1;
  components: Record<string, RunningStats>;
}

export class RewardEnsemble {
  private lastGrads: RenderCotangents | undefined;

  private constructor(
    private readonly gpu: Gpu,
    private readonly members: Member[],
    private readonly config: Required<EnsembleConfig>,
  ) {}

  static async create(gpu: Gpu, specs: RewardSpec[], config: EnsembleConfig, baseDir: string): Promise<RewardEnsemble> {
    if (!NORMALIZE.includes(config.normalize))
      throw new InputError(`reward ensemble: 'normalize' must be one of ${NORMALIZE.join(', ')}; got '${config.normalize}'.`);
    if (!AGGREGATE.includes(config.aggregate))
      throw new InputError(`reward ensemble: 'aggregate' must be one of ${AGGREGATE.join(', ')}; got '${config.aggregate}'.`);
    const full: Required<EnsembleConfig> = {
      softminTemperature: 0.5,
      sphereBandwidthDegrees: 45,
      runningWindow: 1000,
      gradients: true,
      ...config,
    };
    if (!(full.softminTemperature > 0)) throw new InputError(`reward ensemble: 'softminTemperature' must be > 0.`);
    if (!(full.sphereBandwidthDegrees > 0)) throw new InputError(`reward ensemble: 'sphereBandwidthDegrees' must be > 0.`);
    if (!specs.length) throw new InputError('reward ensemble: no rewards given; add at least one to the scene config.');
    const members: Member[] = [];
    const used = new Set<string>();
    try {
      for (const spec of specs) {
        const plugin = await loadRewardPlugin(spec, baseDir);
        let key = plugin.name;
        for (let i = 2; used.has(key); i++) key = `${plugin.name}#${i}`;
        used.add(key);
        await plugin.setup?.(gpu);
        members.push({ key, plugin, weight: spec.weight, stats: emptyStats() });
      }
    } catch (e) {
      for (const m of members) await m.plugin.teardown?.();
      throw e;
    }
    return new RewardEnsemble(gpu, members, full);
  }

  get names(): string[] {
    return this.members.map((m) => m.key);
  }

  /** The weight of component `key` (a name from `names`). */
  weight(key: string): number {
    return this.member(key).weight;
  }

  /** Changes a component's weight, e.g. from a reward-weight schedule; takes effect at the next score(). */
  setWeight(key: string, weight: number): void {
    if (!Number.isFinite(weight)) throw new InputError(`reward ensemble: weight of '${key}' must be a finite number, got ${weight}.`);
    this.member(key).weight = weight;
  }

  private member(key: string): Member {
    const m = this.members.find((x) => x.key === key);
    if (!m) throw new InputError(`reward ensemble: no component '${key}'; components are ${this.names.join(', ')}.`);
    return m;
  }

  /** Extra render outputs some component reads (whatever its weight: every component scores), defaults resolved. */
  get needs(): Required<RewardNeeds> {
    const all = this.members.map((m) => resolveNeeds(m.plugin.needs));
    return { distortion: all.some((n) => n.distortion), normal: all.some((n) => n.normal) };
  }

  /** The components that read each extra render output, for error messages. */
  needing(what: keyof RewardNeeds): string[] {
    return this.members.filter((m) => resolveNeeds(m.plugin.needs)[what]).map((m) => m.key);
  }

  get differentiable(): boolean {
    return this.members.some((m) => m.plugin.differentiable && m.weight !== 0);
  }

  /** Scores a batch; `request.gradients: false` skips the gradients (ranking callers). */
  async score(views: RewardViews, request: ScoreRequest = {}): Promise<EnsembleScore> {
    const V = views.views;
    const wantGrads = this.config.gradients && request.gradients !== false;
    // Whether a member's gradient will be used this call; cross-view members give theirs later.
    const gradsOf = (m: Member) => wantGrads && m.plugin.differentiable && m.weight !== 0;
    // The previous step's gradient buffers belong to the ensemble; free them now.
    destroyCotangents(this.lastGrads);
    this.lastGrads = undefined;
    const failures: EnsembleScore['failures'] = [];
    const results: { m: Member; r: RewardScore }[] = [];
    for (const m of this.members) {
      let r: RewardScore;
      try {
        r = await m.plugin.score(views, this.gpu, { gradients: gradsOf(m) && !m.plugin.weightedGradient });
        if (!(r?.scores instanceof Float32Array) || r.scores.length !== V)
          throw new Error(`returned ${r?.scores?.length ?? 'no'} scores for ${V} views`);
        const bad = r.scores.findIndex((x) => !Number.isFinite(x));
        if (bad >= 0) {
          destroyCotangents(r.grads);
          throw new Error(`returned a non-finite score (${r.scores[bad]}) for view ${bad}`);
        }
      } catch (e) {
        failures.push({ plugin: m.key, error: (e as Error).message ?? String(e) });
        continue;
      }
      results.push({ m, r });
    }

    const perView = new Float32Array(V);
    const components: Record<string, ComponentBreakdown> = {};
    const details: Record<string, number> = {};
    const warnings: string[] = [];
    const scales = new Map<Member, number>();
    for (const { m, r } of results) {
      const n = normalizeScores(this.config.normalize, r.scores, m.stats, this.config.runningWindow);
      scales.set(m, n.scale);
      for (let v = 0; v < V; v++) perView[v] += m.weight * n.values[v];
      components[m.key] = { mean: mean(r.scores), normalized: mean(n.values), weight: m.weight };
      for (const [k, x] of Object.entries(r.details ?? {})) details[`${m.key}.${k}`] = x;
      for (const w of r.warnings ?? []) warnings.push(`${m.key}: ${w}`);
    }
    const agg = aggregateViews(this.config.aggregate, perView, views.cameras, {
      softminTemperature: this.config.softminTemperature,
      sphereBandwidthDegrees: this.config.sphereBandwidthDegrees,
    });

    let grads: RenderCotangents | undefined;
    const withGrads = results.filter(({ m, r }) => gradsOf(m) && (m.plugin.weightedGradient || r.grads));
    const ones = new Float32Array(V).fill(1);
    const crossView: RenderCotangents[] = [];
    try {
      if (withGrads.length) {
        grads = {};
        const encoder = this.gpu.device.createCommandEncoder({ label: 'reward ensemble grads' });
        const temps: GPUBuffer[] = [];
        for (const { m, r } of withGrads) {
          // d total / d score_{m,v} = aggregation weight of v * component weight * normalisation slope.
          const coef = agg.weights.map((a) => a * m.weight * scales.get(m)!);
          if (m.plugin.weightedGradient) {
            let g: RenderCotangents;
            try {
              g = await m.plugin.weightedGradient(coef, this.gpu);
            } catch (e) {
              // Its score stands; only its gradient is missing from this step.
              failures.push({ plugin: m.key, error: `gradient: ${(e as Error).message ?? String(e)}` });
              continue;
            }
            crossView.push(g);
            temps.push(...(await accumulateCotangents(this.gpu, encoder, grads, g, ones, views.width * views.height, `reward grads`)));
          } else {
            temps.push(...(await accumulateCotangents(this.gpu, encoder, grads, r.grads!, coef, views.width * views.height, `reward grads`)));
          }
        }
        await this.gpu.submit('reward ensemble grads', encoder);
        await this.gpu.device.queue.onSubmittedWorkDone();
        for (const t of temps) t.destroy();
        this.lastGrads = grads;
      }
    } finally {
      for (const { r } of results) destroyCotangents(r.grads);
      for (const g of crossView) destroyCotangents(g);
    }
    return { total: agg.total, perView, components, grads, failures, details, warnings };
  }

  stateDict(): EnsembleStateDict {
    const components: Record<string, RunningStats> = {};
    for (const m of this.members) components[m.key] = { ...m.stats };
    return { version: 1, components };
  }

  loadStateDict(state: EnsembleStateDict): void {
    if (!state || state.version !== 1 || typeof state.components !== 'object')
      throw new InputError('reward ensemble state: expected { version: 1, components } from stateDict().');
    for (const m of this.members) {
      const s = state.components[m.key];
      if (!s) continue; // a reward added since the checkpoint starts fresh
      if (![s.count, s.mean, s.variance].every(Number.isFinite))
        throw new InputError(`reward ensemble state: component '${m.key}' has non-finite statistics.`);
      m.stats = { count: s.count, mean: s.mean, variance: s.variance };
    }
  }

  async destroy(): Promise<void> {
    destroyCotangents(this.lastGrads);
    this.lastGrads = undefined;
    for (const m of this.members) await m.plugin.teardown?.();
  }
}

function mean(xs: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < xs.length; i++) s += xs[i];
  return xs.length ? s / xs.length : 0;
}
