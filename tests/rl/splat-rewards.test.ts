// The splats reach the rewards from the training stack: candidate batches carry one copied
// splat set per candidate (so geometry's floater term judges each candidate by its own
// splats), grpo lowers the opacity of floaters under a floater-only reward, and
// reward-gradient's step scores the representation's splats.
import { describe, expect, it } from 'vitest';
import { useGpu } from '../helpers/gpu.ts';
import { SplatRepresentation } from '../../src/train/splat-representation.ts';
import { randomGaussiansInSphere } from '../../src/scene/gaussian-init.ts';
import type { GaussianData } from '../../src/scene/gaussian-data.ts';
import { RewardEnsemble } from '../../src/rewards/ensemble.ts';
import { CandidateBatch } from '../../src/rl/candidates.ts';
import { Grpo } from '../../src/rl/grpo.ts';
import { RewardGradient } from '../../src/rl/reward-gradient.ts';
import { testCameras, train } from './helpers/train.ts';

const gpu = useGpu();
const S = 24;
const FLOATERS = 5;
const logit = (p: number) => Math.log(p / (1 - p));

/** A dense blob of 30 splats; the last FLOATERS are faint (opacity 0.3) and, with `out`, far from it. */
function scene(out: boolean): GaussianData {
  const d = randomGaussiansInSphere({ count: 30, radius: 0.35, shDegree: 0, seed: 4, opacity: 0.9, scale: 0.12 });
  for (let k = 0; k < FLOATERS; k++) {
    const i = d.count - FLOATERS + k;
    d.opacityLogits[i] = logit(0.3);
    if (out) d.means.set([k % 2 ? 1.1 : -1.1, 0.8 - 0.4 * k, 0.2], i * 3);
  }
  return d;
}

function floaterReward(): Promise<RewardEnsemble> {
  const options = { entropyWeight: 0, normalWeight: 0, anisotropyWeight: 0, floaterWeight: 1 };
  return RewardEnsemble.create(gpu(), [{ name: 'geometry', weight: 1, options }], { normalize: 'none', aggregate: 'mean' }, process.cwd());
}

const LR = { means: 0, logScales: 0, quats: 0, opacityLogits: 0.1, sh: 0 };

describe('splats in the rewards of the training stack', () => {
  it('a candidate batch judges each candidate by its own (copied) splats', async () => {
    const rep = await SplatRepresentation.create(gpu(), scene(false), { ...LR });
    const cams = testCameras(2, S, S);
    const clean = scene(false).means;
    const rewards = await floaterReward();
    let batch: CandidateBatch | undefined;
    try {
      // As grpo does: render the base, perturb (here: move the faint splats out), render, restore.
      for (const means of [clean, scene(true).means]) {
        gpu().write(rep.cloud.means, means);
        const frame = await rep.render(cams);
        batch ??= new CandidateBatch(gpu(), 2, frame);
        await batch.add(frame, {}, { splats: rep.rewardSplats() });
        frame.destroy();
      }
      gpu().write(rep.cloud.means, clean);
      const { rewards: r, result } = await batch!.score(rewards, 'p');
      console.log(`floater-only reward: clean ${r[0].toFixed(4)}, with floaters ${r[1].toFixed(4)}`);
      // Faint floaters hold 1.5 of ~25.7 opacity: about -0.06 for the candidate that has them.
      expect(r[0]).toBeGreaterThan(-0.01);
      expect(r[1]).toBeLessThan(r[0] - 0.04);
      expect(result.details['geometry.floaters']).toBeGreaterThan(0.02);
    } finally {
      batch?.destroy();
      rep.destroy();
      await rewards.destroy();
    }
  });

  it('grpo under a floater-only reward lowers the opacity of the splats outside the hull', async () => {
    const rep = await SplatRepresentation.create(gpu(), scene(true), { ...LR });
    const rewards = await floaterReward();
    const opacity = async () => Array.from(await gpu().readF32(rep.cloud.opacityLogits, 30));
    const before = await opacity();
    const grpo = await Grpo.create({ block: ['opacityLogits'], sigma: 0.5, groupSize: 16, epochs: 1, klWeight: 0 }, gpu());
    const { reports } = await train({ gpu: gpu(), algorithm: grpo, representation: rep, rewards, steps: 8, cameras: testCameras(2, S, S) });
    const after = await opacity();
    const drop = (from: number, to: number) => before.slice(from, to).reduce((s, x, i) => s + x - after[from + i], 0) / (to - from);
    console.log(`grpo floater-only: reward ${reports[0].reward.toFixed(4)} -> ${reports[reports.length - 1].reward.toFixed(4)}, floater logit drop ${drop(25, 30).toFixed(3)}, blob ${drop(0, 25).toFixed(3)}`);
    expect(reports[0].metrics['reward/geometry.floaters']).toBeGreaterThan(0.02);
    expect(drop(25, 30)).toBeGreaterThan(0.3);
    expect(drop(25, 30)).toBeGreaterThan(drop(0, 25) + 0.3);
    expect(reports[reports.length - 1].reward).toBeGreaterThan(reports[0].reward);
    grpo.destroy();
    rep.destroy();
    await rewards.destroy();
  });

  it("reward-gradient's step scores the representation's splats", async () => {
    const rep = await SplatRepresentation.create(gpu(), scene(true), { ...LR });
    const rewards = await floaterReward();
    const algo = await RewardGradient.create({}, gpu());
    const { reports } = await train({ gpu: gpu(), algorithm: algo, representation: rep, rewards, steps: 1, cameras: testCameras(2, S, S) });
    expect(reports[0].metrics['reward/geometry.floaters']).toBeGreaterThan(0.02);
    expect(reports[0].reward).toBeLessThan(-0.02);
    rep.destroy();
    await rewards.destroy();
  });
});
