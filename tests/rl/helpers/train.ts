// The trainer's loop in miniature: zero grads, algorithm.step, Adam (the project's WGSL Adam).
import { Adam } from '../../../src/train/adam.ts';
import type { Gpu } from '../../../src/gpu/gpu.ts';
import { orbitCamera, type Camera } from '../../../src/math/camera.ts';
import type { RewardEnsemble } from '../../../src/rewards/ensemble.ts';
import type { Algorithm, StepContext, StepReport } from '../../../src/rl/algorithm.ts';
import type { ScorePrior } from '../../../src/prior/score-prior.ts';
import type { Representation } from '../../../src/scene/representation.ts';

/** mulberry32: a small seeded uniform RNG for the tests' StepContext.random. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function testCameras(views: number, width: number, height: number): Camera[] {
  return Array.from({ length: views }, (_, v) => orbitCamera({ elevation: 10, azimuth: (360 * v) / views, radius: 3, width, height }));
}

export interface TrainRun {
  reports: StepReport[];
}

export async function train(opts: {
  gpu: Gpu;
  algorithm: Algorithm;
  representation: Representation;
  rewards: RewardEnsemble;
  steps: number;
  cameras: Camera[];
  prompt?: string;
  prior?: ScorePrior;
  seed?: number;
  lr?: number;
}): Promise<TrainRun> {
  const { gpu, algorithm, representation, steps } = opts;
  const blocks = representation.params();
  const adam = await Adam.create(
    gpu,
    blocks.map((b) => ({ ...b, lr: opts.lr ?? b.lr })),
  );
  const random = seededRandom(opts.seed ?? 1);
  const reports: StepReport[] = [];
  for (let step = 0; step < steps; step++) {
    await gpu.run('test:zero', (enc) => representation.zeroGrads(enc));
    const ctx: StepContext = {
      gpu,
      step,
      totalSteps: steps,
      random,
      representation,
      cameras: opts.cameras,
      renderOptions: {},
      prompt: opts.prompt ?? 'a test',
      rewards: opts.rewards,
      prior: opts.prior,
      priorWeight: 1,
    };
    reports.push(await algorithm.step(ctx));
    await gpu.run('test:adam', (enc) => adam.step(enc));
  }
  return { reports };
}
