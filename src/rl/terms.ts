/**
 * The two kinds of gradient terms the update rules are made of, so that `composite` can sum
 * them with weights:
 *  - an ImageTerm adds d(loss)/d(images) for a rendered frame into a shared accumulator (one
 *    render and one backward pass serve every image term of a step);
 *  - a ParamTerm writes d(loss)/d(params) straight into the grad buffers (grpo, dpo).
 * `weight` multiplies everything the term writes.
 */
import type { EnsembleScore } from '../rewards/ensemble.ts';
import type { StepContext, StepReport } from './algorithm.ts';
import type { CotangentAccumulator } from './cotangents.ts';
import type { RenderFrame } from '../scene/representation.ts';

export interface TermReport {
  loss?: number;
  metrics: Record<string, number>;
}

export interface ImageTerm {
  readonly name: string;
  /** Must run before any other ensemble call of the step when it reads `scored.grads`. */
  readonly usesRewardGradient: boolean;
  addImageGradient(
    ctx: StepContext,
    frame: RenderFrame,
    scored: EnsembleScore,
    acc: CotangentAccumulator,
    weight: number,
  ): Promise<TermReport>;
}

export interface ParamTerm {
  readonly name: string;
  addParamGradient(ctx: StepContext, weight: number): Promise<StepReport>;
}

/** Prefixes metric names with a term's name. */
export function prefixed(prefix: string, metrics: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(metrics).map(([k, v]) => [`${prefix}/${k}`, v]));
}

/** The ensemble's breakdown flattened for the metrics log. */
export function rewardMetrics(scored: EnsembleScore): Record<string, number> {
  const m: Record<string, number> = { 'reward/total': scored.total, 'reward/failures': scored.failures.length };
  for (const [k, c] of Object.entries(scored.components)) {
    m[`reward/${k}`] = c.mean;
    m[`reward/${k}.normalized`] = c.normalized;
    m[`reward/${k}.weight`] = c.weight;
  }
  for (const [k, v] of Object.entries(scored.details)) m[`reward/${k}`] = v;
  return m;
}
