import { fileURLToPath } from 'node:url';
import type { Gpu } from '../../../src/gpu/gpu.ts';
import { RewardEnsemble } from '../../../src/rewards/ensemble.ts';

const PLUGIN = fileURLToPath(new URL('../plugins/target-colour.ts', import.meta.url));

/** The real RewardEnsemble with one target-colour test plugin, unnormalised, mean over views. */
export function targetEnsemble(gpu: Gpu, mode: 'smooth' | 'quantized' | 'threshold', target: number[], step = 0.1): Promise<RewardEnsemble> {
  return RewardEnsemble.create(gpu, [{ module: PLUGIN, weight: 1, options: { mode, target, step } }], { normalize: 'none', aggregate: 'mean' }, process.cwd());
}
