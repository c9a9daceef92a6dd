// grpo on a black-box reward: a quantized distance to a target colour has zero gradient
// almost everywhere, so only the group-relative policy gradient can climb it.
import { describe, expect, it } from 'vitest';
import { useGpu } from '../helpers/gpu.ts';
import { Grpo } from '../../src/rl/grpo.ts';
import { ImageRepresentation } from './helpers/image-representation.ts';
import { targetEnsemble } from './helpers/ensemble.ts';
import { testCameras, train } from './helpers/train.ts';

const gpu = useGpu();
const W = 4;
const H = 4;
const TARGET = [0.8, 0.2, 0.5];

describe('grpo', () => {
  it('climbs a reward with no gradient, perturbing only the chosen block', async () => {
    const rep = new ImageRepresentation(gpu(), W, H, new Float32Array(W * H * 3).fill(0.5), new Float32Array(W * H).fill(0.7));
    const rewards = await targetEnsemble(gpu(), 'quantized', TARGET, 0.05);
    expect(rewards.differentiable).toBe(false);
    const grpo = await Grpo.create({ block: ['colors'], sigma: 0.05, groupSize: 8, epochs: 2, klWeight: 0.001 }, gpu());
    const { reports } = await train({ gpu: gpu(), algorithm: grpo, representation: rep, rewards, steps: 80, cameras: testCameras(2, W, H), lr: 0.02 });
    const start = reports[0].reward;
    const end = reports[reports.length - 1].reward;
    console.log(`grpo quantized reward: start ${start.toFixed(4)}, end ${end.toFixed(4)}`);
    expect(end - start).toBeGreaterThan(0.6 * Math.abs(start));
    // Only 'colors' was perturbed and updated: alpha is bit-identical, its grad zero.
    const alpha = await gpu().readF32(rep.alpha.param, rep.alpha.count);
    expect(alpha.every((a) => a === Math.fround(0.7))).toBe(true);
    const alphaGrad = await gpu().readF32(rep.alpha.grad, rep.alpha.count);
    expect(alphaGrad.every((g) => g === 0)).toBe(true);
    expect(reports.some((r) => r.metrics['grpo/clipFraction'] > 0)).toBe(true);
    const state = await grpo.stateDict();
    expect((state.snapshots as { ref: number[][] }).ref[0]).toHaveLength(W * H * 3);
    grpo.destroy();
    await rewards.destroy();
  });
});
