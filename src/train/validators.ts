/**
 * The registries a scene config is checked against: algorithm names and option schemas from
 * src/rl/registry.ts, reward names and option schemas from src/rewards/registry.ts, prior
 * fields and model files from src/train/prior-factory.ts. Loading a
 * reward module for its schema imports no GPU code.
 */
import { ALGORITHM_NAMES, validateAlgorithmOptions } from '../rl/registry.ts';
import { builtinRewards, validateOptions } from '../rewards/registry.ts';
import type { ConfigValidators } from './config.ts';
import { validateTrainerPrior } from './prior-factory.ts';

/** Built-in rewards that score images against the prompt (an empty prompt is an error for them). */
const PROMPT_REWARDS = new Set(['prompt-attributes', 'clip']);

export function registryValidators(): ConfigValidators {
  return {
    algorithmNames: ALGORITHM_NAMES,
    validateAlgorithmOptions: (name, options) => {
      validateAlgorithmOptions(name, options);
    },
    rewardNames: Object.keys(builtinRewards),
    validateRewardOptions: async (name, options) => {
      const mod = await builtinRewards[name]();
      validateOptions(name, mod.optionsSchema, options);
    },
    rewardNeedsPrompt: (name) => PROMPT_REWARDS.has(name),
    validatePrior: (prior, baseDir) => validateTrainerPrior(prior, baseDir),
  };
}
