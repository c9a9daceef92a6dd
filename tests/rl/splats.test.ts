// The update rules on the project's real splat renderer: grpo on the colour block alone with
// a black-box reward, and sds with the exemplar prior.
import { describe, expect, it } from 'vitest';
import { useGpu } from '../helpers/gpu.ts';
import { SplatRepresentation } from '../../src/train/splat-representation.ts';
import { randomGaussiansInSphere } from '../../src/scene/gaussian-init.ts';
import { createAlgorithm } from '../../src/rl/registry.ts';
import { rewardViews } from '../../src/rl/candidates.ts';
import { ExemplarPrior } from '../../src/prior/exemplar-prior.ts';
import { targetEnsemble } from './helpers/ensemble.ts';
import { testCameras, train } from './helpers/train.ts';

const gpu = useGpu();
const S = 24;
const RED = [0.9, 0.15, 0.1];
const LR = { means: 0, logScales: 0, quats: 0, opacityLogits: 0, sh: 0.15 };

async function cloud(): Promise<SplatRepresentation> {
  const data = randomGaussiansInSphere({ count: 150, radius: 0.6, shDegree: 0, seed: 2, opacity: 0.8, scale: 0.15 });
  return SplatRepresentation.create(gpu(), data, { ...LR });
}

describe('update rules on splats', () => {
  it('grpo on the sh block raises a black-box reward; other blocks stay put', async () => {
    const rep = await cloud();
    const meansBefore = await gpu().readF32(rep.params()[0].param);
    const rewards = await targetEnsemble(gpu(), 'quantized', RED, 0.05);
    const algo = await createAlgorithm('grpo', { block: ['sh'], sigma: 0.3, groupSize: 8, epochs: 2 }, gpu());
    const { reports } = await train({ gpu: gpu(), algorithm: algo, representation: rep, rewards, steps: 80, cameras: testCameras(2, S, S) });
    const start = reports[0].reward;
    const end = reports[reports.length - 1].reward;
    // The best this block can do (background pixels stay): every splat's DC colour red.
    const sh = rep.params().find((b) => b.name === 'sh')!;
    const C0 = 0.28209479177387814;
    gpu().write(sh.param, Float32Array.from({ length: sh.count }, (_, i) => (RED[i % 3] - 0.5) / C0));
    const frame = await rep.render(testCameras(2, S, S));
    const ideal = await rewards.score(rewardViews(frame, 'p'));
    frame.destroy();
    console.log(`grpo on splats (sh block) reward: start ${start.toFixed(4)}, end ${end.toFixed(4)}, all-red ${ideal.total.toFixed(4)}`);
    expect(end - start).toBeGreaterThan(0.35 * (ideal.total - start));
    expect(Array.from(await gpu().readF32(rep.params()[0].param))).toEqual(Array.from(meansBefore));
    algo.destroy?.();
    await rewards.destroy();
  });

  it('sds with a red exemplar turns the splats red', async () => {
    const rep = await cloud();
    const rewards = await targetEnsemble(gpu(), 'smooth', RED);
    // The exemplar is the first render recoloured: red wherever the splats cover, as rendered elsewhere.
    const first = await rep.render(testCameras(1, S, S));
    const rgb = await gpu().readF32(first.rgb, S * S * 3);
    const alpha = await gpu().readF32(first.alpha, S * S);
    first.destroy();
    const exemplar = rgb.map((c, i) => alpha[Math.floor(i / 3)] * RED[i % 3] + (c - alpha[Math.floor(i / 3)] * c));
    const prior = await ExemplarPrior.create({ exemplars: [{ width: S, height: S, rgb: exemplar }] });
    const algo = await createAlgorithm('sds', { guidanceScale: 1, timestepRange: [0.05, 0.5] }, gpu());
    const { reports } = await train({ gpu: gpu(), algorithm: algo, representation: rep, rewards, prior, steps: 40, cameras: testCameras(1, S, S) });
    const start = reports[0].reward;
    const end = reports[reports.length - 1].reward;
    console.log(`sds on splats, reward (closeness to red): start ${start.toFixed(4)}, end ${end.toFixed(4)}`);
    expect(end - start).toBeGreaterThan(0.3 * Math.abs(start));
    await rewards.destroy();
  });
});
