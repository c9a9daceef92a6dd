/**
 * The interface every update rule implements (reward-gradient, grpo, dpo, sds,
 * reward-weighted-sds). One call = one optimisation step's worth of gradient: the algorithm
 * renders, scores, and leaves gradients in the representation's grad buffers; the trainer
 * then runs Adam, densification and logging. Gradients are of a loss to MINIMISE (Adam
 * descends), so a reward R contributes -dR/dparams.
 */
import type { Gpu } from '../gpu/gpu.ts';
import type { Camera } from '../math/camera.ts';
import type { RenderOptions } from '../render/types.ts';
import type { Representation } from '../scene/representation.ts';
import type { RewardEnsemble } from '../rewards/ensemble.ts';
import type { ScorePrior } from '../prior/score-prior.ts';

export interface StepContext {
  gpu: Gpu;
  step: number;
  totalSteps: number;
  /** Deterministic uniform random numbers in [0, 1), seeded from the config and step. */
  random: () => number;
  representation: Representation;
  /** The views of this step (cameras carry their `time` for 4D). */
  cameras: Camera[];
  renderOptions: RenderOptions;
  prompt: string;
  rewards: RewardEnsemble;
  prior?: ScorePrior;
  /** Weight of the score-distillation term this step (from its schedule). */
  priorWeight?: number;
}

export interface StepReport {
  /** The quantity the step climbed (aggregated reward), before the update. */
  reward: number;
  /** The loss whose gradient was written, when the algorithm has one. */
  loss?: number;
  /** Per-component numbers for the metrics log (reward breakdown, KL, clip fraction...). */
  metrics: Record<string, number>;
}

export interface Algorithm {
  readonly name: string;
  /** Writes gradients into representation.params()[i].grad (they are zeroed before). */
  step(ctx: StepContext): Promise<StepReport>;
  /** Serialisable state (e.g. reference parameters, running baselines) for checkpoints. */
  stateDict?(): Promise<Record<string, unknown>>;
  loadStateDict?(state: Record<string, unknown>): Promise<void>;
  destroy?(): void;
}
