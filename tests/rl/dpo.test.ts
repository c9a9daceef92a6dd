// dpo on a black-box reward: only the ranking of each candidate pair is used.
import { describe, expect, it } from 'vitest';
import { useGpu } from '../helpers/gpu.ts';
import { Dpo } from '../../src/rl/dpo.ts';
import { ImageRepresentation } from './helpers/image-representation.ts';
import { targetEnsemble } from './helpers/ensemble.ts';
import { testCameras, train } from './helpers/train.ts';

const gpu = useGpu();
const W = 4;
const H = 4;
const TARGET = [0.2, 0.7, 0.9];

describe('dpo', () => {
  it('climbs a thresholded reward from pairwise preferences', async () => {
    const rep = new ImageRepresentation(gpu(), W, H, new Float32Array(W * H * 3).fill(0.5));
    // Fraction of channels within 0.25 of the target: a step function of the colours.
    const rewards = await targetEnsemble(gpu(), 'threshold', TARGET, 0.25);
    expect(rewards.differentiable).toBe(false);
    const dpo = await Dpo.create({ block: ['colors'], sigma: 0.1, pairs: 4, beta: 0.05 }, gpu());
    const { reports } = await train({ gpu: gpu(), algorithm: dpo, representation: rep, rewards, steps: 100, cameras: testCameras(2, W, H), lr: 0.02 });
    const start = reports[0].reward;
    const end = reports[reports.length - 1].reward;
    console.log(`dpo threshold reward: start ${start.toFixed(4)}, end ${end.toFixed(4)}`);
    expect(end - start).toBeGreaterThan(0.4);
    expect(reports.some((r) => r.metrics['dpo/pairsUsed'] > 0)).toBe(true);
    dpo.destroy();
    await rewards.destroy();
  });

  it('does not move when every pair ties (no preference, no gradient)', async () => {
    const rep = new ImageRepresentation(gpu(), W, H, new Float32Array(W * H * 3).fill(0.5));
    const rewards = await targetEnsemble(gpu(), 'threshold', [0.5, 0.5, 0.5], 0.9);
    const dpo = await Dpo.create({ block: 'all', sigma: 0.01, pairs: 2 }, gpu());
    await train({ gpu: gpu(), algorithm: dpo, representation: rep, rewards, steps: 3, cameras: testCameras(1, W, H), lr: 0.02 });
    const colors = await rep.readColors();
    expect(colors.every((c) => c === 0.5)).toBe(true);
    dpo.destroy();
    await rewards.destroy();
  });
});
