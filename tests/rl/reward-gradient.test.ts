// reward-gradient (ReFL/DRaFT style) on a differentiable reward, its hinge shaping, and
// composite sums of terms.
import { describe, expect, it } from 'vitest';
import { useGpu } from '../helpers/gpu.ts';
import { expectGradClose } from '../helpers/compare.ts';
import { RewardGradient } from '../../src/rl/reward-gradient.ts';
import { Composite } from '../../src/rl/composite.ts';
import { Sds } from '../../src/rl/score-distillation.ts';
import { ExemplarPrior } from '../../src/prior/exemplar-prior.ts';
import type { Algorithm, StepContext } from '../../src/rl/algorithm.ts';
import type { RewardEnsemble } from '../../src/rewards/ensemble.ts';
import type { ScorePrior } from '../../src/prior/score-prior.ts';
import { ImageRepresentation } from './helpers/image-representation.ts';
import { targetEnsemble } from './helpers/ensemble.ts';
import { seededRandom, testCameras, train } from './helpers/train.ts';

const gpu = useGpu();
const W = 4;
const H = 4;
const TARGET = [0.9, 0.4, 0.1];

function solid(c: number[]): Float32Array {
  return Float32Array.from({ length: W * H * 3 }, (_, i) => c[i % 3]);
}

/** One step's gradient of `algorithm` on a fresh image, with a fixed random stream. */
async function oneStepGrad(algorithm: Algorithm, rewards: RewardEnsemble, prior?: ScorePrior): Promise<Float32Array> {
  const rep = new ImageRepresentation(gpu(), W, H, solid([0.3, 0.6, 0.5]));
  const ctx: StepContext = {
    gpu: gpu(), step: 0, totalSteps: 10, random: seededRandom(9), representation: rep, cameras: testCameras(2, W, H),
    renderOptions: {}, prompt: 'p', rewards, prior, priorWeight: 1,
  };
  await algorithm.step(ctx);
  return gpu().readF32(rep.colors.grad, rep.colors.count);
}

describe('reward-gradient', () => {
  it('raises a differentiable reward', async () => {
    const rep = new ImageRepresentation(gpu(), W, H, solid([0.3, 0.6, 0.5]));
    const rewards = await targetEnsemble(gpu(), 'smooth', TARGET);
    const algo = await RewardGradient.create({ scale: 1, gradClip: 1 }, gpu());
    const { reports } = await train({ gpu: gpu(), algorithm: algo, representation: rep, rewards, steps: 20, cameras: testCameras(2, W, H), lr: 0.03 });
    const start = reports[0].reward;
    const end = reports[reports.length - 1].reward;
    console.log(`reward-gradient smooth reward: start ${start.toFixed(4)}, end ${end.toFixed(4)}`);
    expect(end).toBeGreaterThan(start + 0.8 * Math.abs(start));
    await rewards.destroy();
  });

  it('hinge shaping: views above the margin write no gradient', async () => {
    const rewards = await targetEnsemble(gpu(), 'smooth', TARGET);
    const below = await oneStepGrad(await RewardGradient.create({ shaping: 'hinge', margin: 0 }, gpu()), rewards);
    const linear = await oneStepGrad(await RewardGradient.create({}, gpu()), rewards);
    expectGradClose(below, linear, 'hinge below the margin = linear');
    const above = await oneStepGrad(await RewardGradient.create({ shaping: 'hinge', margin: -10 }, gpu()), rewards);
    expect(above.every((g) => g === 0)).toBe(true);
    await rewards.destroy();
  });

  it('needs a differentiable reward', async () => {
    const rewards = await targetEnsemble(gpu(), 'quantized', TARGET);
    await expect(oneStepGrad(await RewardGradient.create({}, gpu()), rewards)).rejects.toThrow(/needs at least one differentiable reward/);
    await rewards.destroy();
  });
});

describe('composite', () => {
  it('writes the weighted sum of its terms (shared render and backward)', async () => {
    const rewards = await targetEnsemble(gpu(), 'smooth', TARGET);
    const rnd = seededRandom(4);
    const prior = await ExemplarPrior.create({ exemplars: [{ width: 2, height: 2, rgb: Float32Array.from({ length: 12 }, () => rnd()) }] });
    const sdsOptions = { guidanceScale: 1, timestepRange: [0.2, 0.6] };
    const composite = await Composite.create(
      { terms: [{ algorithm: 'sds', weight: 0.5, options: sdsOptions }, { algorithm: 'reward-gradient', weight: 2 }] },
      gpu(),
    );
    const both = await oneStepGrad(composite, rewards, prior);
    const sds = await oneStepGrad(await Sds.create({ ...sdsOptions, scale: 0.5 }, gpu()), rewards, prior);
    const rg = await oneStepGrad(await RewardGradient.create({ scale: 2 }, gpu()), rewards, prior);
    expectGradClose(both, sds.map((x, i) => x + rg[i]), 'composite = 0.5 sds + 2 reward-gradient');
    expect(Math.max(...sds.map(Math.abs))).toBeGreaterThan(0);
    await rewards.destroy();
  });

  // The grpo estimate is ~A/sigma per element, far larger than this reward's image gradient,
  // so its weight is small here (Adam normalises the summed gradient).
  it('a reward-gradient + grpo composite raises the reward', async () => {
    const rep = new ImageRepresentation(gpu(), W, H, solid([0.3, 0.6, 0.5]));
    const rewards = await targetEnsemble(gpu(), 'smooth', TARGET);
    const algo = await Composite.create(
      { terms: [{ algorithm: 'reward-gradient', weight: 1 }, { algorithm: 'grpo', weight: 0.002, options: { block: ['colors'], groupSize: 4, epochs: 1 } }] },
      gpu(),
    );
    const { reports } = await train({ gpu: gpu(), algorithm: algo, representation: rep, rewards, steps: 20, cameras: testCameras(1, W, H), lr: 0.03 });
    const start = reports[0].reward;
    const end = reports[reports.length - 1].reward;
    console.log(`composite (reward-gradient + grpo) reward: start ${start.toFixed(4)}, end ${end.toFixed(4)}`);
    expect(end).toBeGreaterThan(start + 0.8 * Math.abs(start));
    expect(reports[0].metrics['grpo/newGroup']).toBe(1);
    algo.destroy();
    await rewards.destroy();
  });
});
