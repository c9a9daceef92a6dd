// grpo and dpo keep their reference, sampling mean and current group in stateDict(); a run
// whose algorithm is rebuilt from a JSON round trip of that state mid-group ends
// bit-identical to an uninterrupted run (same device, same RNG stream, same Adam).
import { describe, expect, it } from 'vitest';
import { useGpu } from '../helpers/gpu.ts';
import { createAlgorithm } from '../../src/rl/registry.ts';
import type { Algorithm, StepContext } from '../../src/rl/algorithm.ts';
import { ImageRepresentation } from './helpers/image-representation.ts';
import { targetEnsemble } from './helpers/ensemble.ts';
import { testCameras, train } from './helpers/train.ts';

const gpu = useGpu();
const W = 3;
const H = 3;

/** Rebuilds the algorithm from its saved state before step `at`. */
function resumedAt(at: number, make: () => Promise<Algorithm>, first: Algorithm): Algorithm {
  let current = first;
  return {
    name: first.name,
    async step(ctx: StepContext) {
      if (ctx.step === at) {
        const saved = JSON.parse(JSON.stringify(await current.stateDict!()));
        current.destroy?.();
        current = await make();
        await current.loadStateDict!(saved);
      }
      return current.step(ctx);
    },
  };
}

describe('resume', () => {
  for (const [name, options] of [
    ['grpo', { block: ['colors'], groupSize: 4, epochs: 3, reference: 'moving', sigma: 0.1 }],
    ['dpo', { block: 'all', pairs: 2, reference: 'moving', sigma: 0.1 }],
  ] as const) {
    it(`${name}: a run rebuilt from stateDict mid-way ends bit-identical`, async () => {
      const rewards = await targetEnsemble(gpu(), 'quantized', [0.7, 0.2, 0.4], 0.05);
      const run = async (algorithm: Algorithm) => {
        const rep = new ImageRepresentation(gpu(), W, H, new Float32Array(W * H * 3).fill(0.5));
        await train({ gpu: gpu(), algorithm, representation: rep, rewards, steps: 7, cameras: testCameras(1, W, H), lr: 0.05, seed: 3 });
        return [await rep.readColors(), await gpu().readF32(rep.alpha.param, rep.alpha.count)];
      };
      const make = () => createAlgorithm(name, { ...options } as Record<string, unknown>, gpu());
      const straight = await run(await make());
      const resumed = await run(resumedAt(4, make, await make()));
      expect(Array.from(resumed[0])).toEqual(Array.from(straight[0]));
      expect(Array.from(resumed[1])).toEqual(Array.from(straight[1]));
      // The run did move (otherwise equality would prove nothing).
      expect(straight[0].some((c) => c !== 0.5)).toBe(true);
      await rewards.destroy();
    });
  }
});
