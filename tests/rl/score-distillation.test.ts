// sds with the exemplar prior and with the ONNX denoiser pulls renders towards the data
// (through a resize to the prior's resolution); reward-weighted-sds picks the exemplar the reward likes.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { useGpu } from '../helpers/gpu.ts';
import { ExemplarPrior } from '../../src/prior/exemplar-prior.ts';
import { resizeBilinear } from '../../src/prior/image-resize.ts';
import { ddpmSchedule, noiseLevels, sdsWeight } from '../../src/prior/score-prior.ts';
import { OnnxDenoiser } from '../../src/prior/onnx-denoiser.ts';
import { buildGaussianDenoiser } from '../prior/helpers/gaussian-denoiser-model.ts';
import { expectGradClose } from '../helpers/compare.ts';
import { RewardWeightedSds, Sds, sampleWeights } from '../../src/rl/score-distillation.ts';
import { timestepRange } from '../../src/rl/timestep-schedule.ts';
import { ImageRepresentation } from './helpers/image-representation.ts';
import { targetEnsemble } from './helpers/ensemble.ts';
import { seededRandom, testCameras, train } from './helpers/train.ts';

const gpu = useGpu();

function solid(w: number, h: number, c: number[]): Float32Array {
  return Float32Array.from({ length: w * h * 3 }, (_, i) => c[i % 3]);
}

describe('score distillation', () => {
  it('sds with the exemplar prior moves the render towards the exemplar', async () => {
    const rnd = seededRandom(5);
    const PW = 4;
    const PH = 4;
    const exemplar = Float32Array.from({ length: PW * PH * 3 }, () => 0.1 + 0.8 * rnd());
    const prior = await ExemplarPrior.create({ exemplars: [{ width: PW, height: PH, rgb: exemplar }] });
    const W = 8;
    const H = 8;
    const rep = new ImageRepresentation(gpu(), W, H, solid(W, H, [0.5, 0.5, 0.5]));
    const rewards = await targetEnsemble(gpu(), 'quantized', [0.5, 0.5, 0.5]);
    const distance = async () => {
      const c = await rep.readColors();
      const small = resizeBilinear(c, { views: 1, width: W, height: H, channels: 3 }, PW, PH);
      return Math.sqrt(small.reduce((a, x, i) => a + (x - exemplar[i]) ** 2, 0) / small.length);
    };
    const before = await distance();
    const sds = await Sds.create({ guidanceScale: 1, timestepRange: [0.02, 0.6], anneal: 'linear', annealTo: [0.02, 0.3] }, gpu());
    const { reports } = await train({ gpu: gpu(), algorithm: sds, representation: rep, rewards, prior, steps: 40, cameras: testCameras(2, W, H), lr: 0.02 });
    const after = await distance();
    console.log(`sds exemplar RMS distance: start ${before.toFixed(4)}, end ${after.toFixed(4)}`);
    expect(after).toBeLessThan(0.4 * before);
    expect(reports[0].metrics['sds/tMax']).toBeGreaterThan(0);
    await rewards.destroy();
  });

  it('sds writes 2 w(t)(eps_hat - eps), which for one exemplar is 2 w(t) alpha (x0 - y) / sigma', async () => {
    const S = 3;
    const rnd = seededRandom(8);
    const exemplar = Float32Array.from({ length: S * S * 3 }, () => rnd());
    const start = Float32Array.from({ length: S * S * 3 }, () => rnd());
    const prior = await ExemplarPrior.create({ exemplars: [{ width: S, height: S, rgb: exemplar }] });
    const rep = new ImageRepresentation(gpu(), S, S, start);
    const rewards = await targetEnsemble(gpu(), 'quantized', [0.5, 0.5, 0.5]);
    const sds = await Sds.create({ guidanceScale: 1, weighting: 'sds', timestepRange: [0.1, 0.9] }, gpu());
    const { reports } = await train({ gpu: gpu(), algorithm: sds, representation: rep, rewards, prior, steps: 1, cameras: testCameras(1, S, S), lr: 0 });
    const t = reports[0].metrics['sds/tMin'];
    const { alpha, sigma } = noiseLevels(prior.schedule, t);
    const w = sdsWeight(prior.schedule, t, 'sds');
    const want = Array.from(start, (c, i) => (2 * w * alpha * (2 * c - 1 - (2 * exemplar[i] - 1))) / sigma);
    expectGradClose(await gpu().readF32(rep.colors.grad, rep.colors.count), want, 'sds image gradient');
    await rewards.destroy();
  });

  it('sds without a prior is an InputError', async () => {
    const rep = new ImageRepresentation(gpu(), 2, 2, solid(2, 2, [0.5, 0.5, 0.5]));
    const rewards = await targetEnsemble(gpu(), 'quantized', [0.5, 0.5, 0.5]);
    const sds = await Sds.create({}, gpu());
    await expect(train({ gpu: gpu(), algorithm: sds, representation: rep, rewards, steps: 1, cameras: testCameras(1, 2, 2) })).rejects.toThrow(/needs a score prior/);
    await rewards.destroy();
  });

  it('reward-weighted-sds goes to the exemplar the reward prefers', async () => {
    const S = 4;
    const red = [0.9, 0.1, 0.1];
    const blue = [0.1, 0.1, 0.9];
    const prior = await ExemplarPrior.create({
      exemplars: [
        { width: S, height: S, rgb: solid(S, S, red) },
        { width: S, height: S, rgb: solid(S, S, blue) },
      ],
    });
    const run = async (preferred: number[], strategy = 'weighted') => {
      const rep = new ImageRepresentation(gpu(), S, S, solid(S, S, [0.5, 0.1, 0.5]));
      // Black-box preference (quantized: no usable gradient).
      const rewards = await targetEnsemble(gpu(), 'quantized', preferred, 0.02);
      const algo = await RewardWeightedSds.create({ guidanceScale: 1, samples: 4, temperature: 0.02, timestepRange: [0.1, 0.6], strategy }, gpu());
      const { reports } = await train({ gpu: gpu(), algorithm: algo, representation: rep, rewards, prior, steps: 30, cameras: testCameras(2, S, S), lr: 0.03 });
      await rewards.destroy();
      return { reports, colors: await rep.readColors() };
    };
    // The same start, seed and prior: only the reward's preference differs, and decides.
    for (const [label, preferred, other, strategy] of [
      ['red', red, blue, 'weighted'],
      ['blue', blue, red, 'weighted'],
      ['red (dreamdpo)', red, blue, 'dreamdpo'],
    ] as const) {
      const { reports, colors } = await run(preferred, strategy);
      const start = reports[0].reward;
      const end = reports[reports.length - 1].reward;
      console.log(`reward-weighted-sds preferring ${label}: reward start ${start.toFixed(4)}, end ${end.toFixed(4)}`);
      expect(end - start).toBeGreaterThan(0.6 * Math.abs(start));
      const dist = (c: readonly number[]) => Math.sqrt(colors.reduce((a, x, i) => a + (x - c[i % 3]) ** 2, 0) / colors.length);
      expect(dist(preferred)).toBeLessThan(0.1);
      expect(dist(other)).toBeGreaterThan(0.4);
    }
  });

  it('sample weights: softmax, best-k and min-max', () => {
    const r = [0.1, 0.5, 0.3, -0.2];
    const soft = sampleWeights(r, { strategy: 'weighted', temperature: 0.1, topK: 2, maxWeight: 0.9, minWeight: 0.1 });
    expect(soft.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 6);
    expect(soft.indexOf(Math.max(...soft))).toBe(1);
    expect(soft[1] / soft[2]).toBeCloseTo(Math.exp(2), 4);
    expect(sampleWeights(r, { strategy: 'best-k', temperature: 1, topK: 2, maxWeight: 0.9, minWeight: 0.1 })).toEqual([0, 0.5, 0.5, 0]);
    const mm = sampleWeights(r, { strategy: 'min-max', temperature: 1, topK: 1, maxWeight: 0.9, minWeight: 0.1 });
    expect(mm).toEqual([0, 0.9, 0, -0.1]);
    const pair = { strategy: 'dreamdpo', temperature: 1, topK: 1, maxWeight: 0.9, minWeight: 0.1 } as const;
    expect(sampleWeights(r, pair)).toEqual([0, 1, 0, -1]);
    expect(sampleWeights([0.2, 0.25], { ...pair, minGap: 0.1 })).toEqual([0, 1]);
  });

  it('timestep annealing: linear, sqrt and step schedules', () => {
    const o = { timestepRange: [0.02, 0.98] as [number, number], annealTo: [0.02, 0.5] as [number, number], annealAt: 0.5, anneal: 'linear' };
    expect(timestepRange(o, 0, 101)).toEqual([0.02, 0.98]);
    expect(timestepRange(o, 50, 101)[1]).toBeCloseTo(0.74, 10);
    expect(timestepRange(o, 100, 101)[1]).toBeCloseTo(0.5, 10);
    expect(timestepRange({ ...o, anneal: 'sqrt' }, 25, 101)[1]).toBeCloseTo(0.98 - 0.48 * 0.5, 10);
    expect(timestepRange({ ...o, anneal: 'step' }, 49, 101)[1]).toBe(0.98);
    expect(timestepRange({ ...o, anneal: 'step' }, 50, 101)[1]).toBe(0.5);
    expect(timestepRange({ ...o, anneal: 'none' }, 100, 101)).toEqual([0.02, 0.98]);
  });
});

describe('sds through the ONNX denoiser', () => {
  it('pulls the render towards the conditional mean of the model', async () => {
    const PW = 4;
    const rnd = seededRandom(12);
    // NCHW means of the model's data in model space; the conditional one is the target.
    const meanCond = Float32Array.from({ length: 3 * PW * PW }, () => rnd() * 1.2 - 0.6);
    const meanUncond = new Float32Array(3 * PW * PW);
    const path = join(mkdtempSync(join(tmpdir(), 'rl4d-sds-onnx-')), 'gauss.onnx');
    writeFileSync(path, buildGaussianDenoiser({ schedule: ddpmSchedule(), width: PW, height: PW, meanUncond, meanCond, std: 0.05 }));
    const prior = await OnnxDenoiser.create({ path });
    const target = new Float32Array(PW * PW * 3); // NHWC rgb
    for (let p = 0; p < PW * PW; p++) for (let c = 0; c < 3; c++) target[p * 3 + c] = (meanCond[c * PW * PW + p] + 1) / 2;
    const W = 8;
    const rep = new ImageRepresentation(gpu(), W, W, solid(W, W, [0.5, 0.5, 0.5]));
    const rewards = await targetEnsemble(gpu(), 'quantized', [0.5, 0.5, 0.5]);
    const distance = async () => {
      const small = resizeBilinear(await rep.readColors(), { views: 1, width: W, height: W, channels: 3 }, PW, PW);
      return Math.sqrt(small.reduce((a, x, i) => a + (x - target[i]) ** 2, 0) / small.length);
    };
    const before = await distance();
    const sds = await Sds.create({ guidanceScale: 1, timestepRange: [0.02, 0.5] }, gpu());
    await train({ gpu: gpu(), algorithm: sds, representation: rep, rewards, prior, steps: 30, cameras: testCameras(2, W, W), lr: 0.02 });
    const after = await distance();
    console.log(`sds through the ONNX denoiser, RMS distance to the conditional mean: start ${before.toFixed(4)}, end ${after.toFixed(4)}`);
    expect(after).toBeLessThan(0.4 * before);
    await prior.destroy();
    await rewards.destroy();
  });
});
