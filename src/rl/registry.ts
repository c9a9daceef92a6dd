/**
 * Algorithms by name, for the scene config's `algorithm: { name, options }`. Option types are
 * checked by `validateAlgorithmOptions` (no GPU) and again at construction.
 */
import type { Gpu } from '../gpu/gpu.ts';
import type { Algorithm } from './algorithm.ts';
import { Composite } from './composite.ts';
import { Dpo } from './dpo.ts';
import { Grpo } from './grpo.ts';
import { RewardGradient } from './reward-gradient.ts';
import { checkAlgorithmName } from './schemas.ts';
import { RewardWeightedSds, Sds } from './score-distillation.ts';

export { ALGORITHM_NAMES, ALGORITHM_SCHEMAS, algorithmJsonSchemas, validateAlgorithmOptions, type AlgorithmName } from './schemas.ts';

export async function createAlgorithm(name: string, options: Record<string, unknown>, gpu: Gpu): Promise<Algorithm> {
  switch (checkAlgorithmName(name)) {
    case 'reward-gradient':
      return RewardGradient.create(options, gpu);
    case 'grpo':
      return Grpo.create(options, gpu);
    case 'dpo':
      return Dpo.create(options, gpu);
    case 'sds':
      return Sds.create(options, gpu);
    case 'reward-weighted-sds':
      return RewardWeightedSds.create(options, gpu);
    case 'composite':
      return Composite.create(options, gpu);
  }
}
