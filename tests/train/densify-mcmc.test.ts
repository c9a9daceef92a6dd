// MCMC densification: the binomial correction keeps the rendered opacity of n copies, the plan
// relocates every dead splat and grows towards the cap, the GPU kernels (gather with
// correction and moments, position noise, regularisers) match the reference, and a trainer run
// with densify.strategy "mcmc" relocates and grows.
import { describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dispatchesUnderLimit, useGpu } from '../helpers/gpu.ts';
import { GaussianCloud, GaussianGrads } from '../../src/scene/gaussian-cloud.ts';
import { randomGaussiansInSphere } from '../../src/scene/gaussian-init.ts';
import { Adam } from '../../src/train/adam.ts';
import { McmcDensifier } from '../../src/train/densify-mcmc.ts';
import { Rng } from '../../src/train/rng.ts';
import { SPLAT_BLOCK_NAMES, blockWidth } from '../../src/train/splat-blocks.ts';
import { train, trainedSplats } from '../../src/train/trainer.ts';
import { readMetrics } from '../../src/train/metrics.ts';
import {
  REWRITTEN_BIT,
  applyPlanReference,
  gatherMomentReference,
  injectNoiseReference,
  planMcmc,
  regularizerGradsReference,
  relocationValues,
} from '../../src/reference/train/mcmc.ts';
import { tinyScene, rewardGradientOnly } from './fixtures/tiny-scene.ts';

const getGpu = useGpu();
const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));
const CONFIG = { strategy: 'mcmc', minOpacity: 0.01, capMax: 330, growFactor: 1.05, noiseLr: 5e5, opacityReg: 0.01, scaleReg: 0.02 } as never;

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

describe('mcmc reference', () => {
  it('n copies with the corrected opacity composite to the original opacity; one copy is unchanged', () => {
    for (const o of [0.05, 0.3, 0.9])
      for (const n of [2, 3, 7]) {
        const v = relocationValues(o, n, 0.005);
        expect(1 - Math.pow(1 - v.opacity, n)).toBeCloseTo(o, 10);
        expect(v.opacity).toBeLessThan(o);
        expect(v.scaleFactor).toBeGreaterThan(0);
      }
    const one = relocationValues(0.4, 1, 0.005);
    expect(one.opacity).toBeCloseTo(0.4, 12);
    expect(one.scaleFactor).toBeCloseTo(1, 12);
  });

  it('relocates every dead splat and grows by the factor up to the cap', () => {
    const rng = new Rng(2);
    const logits = Float32Array.from({ length: 300 }, () => rng.uniform(-7, 3));
    const dead = Array.from(logits).filter((x) => sigmoid(x) <= 0.01).length;
    expect(dead).toBeGreaterThan(10);
    const plan = planMcmc(logits, { minOpacity: 0.01, capMax: 310, growFactor: 1.05 }, rng.asFunction());
    expect(plan.relocated).toBe(dead);
    expect(plan.added).toBe(10); // min(310, floor(1.05 * 300)) - 300
    expect(plan.rows).toBe(310);
    for (let j = 0; j < plan.rows; j++) {
      const src = plan.source[j] & ~REWRITTEN_BIT;
      expect(sigmoid(logits[src])).toBeGreaterThan(0.01); // nothing copies a dead splat
      expect(sigmoid(plan.opacityLogit[j])).toBeGreaterThanOrEqual(0.01 - 1e-6);
    }
  });
});

async function gpuMatchesReference(): Promise<void> {
  const gpu = getGpu();
  const n = 300;
  const data = randomGaussiansInSphere({ count: n, radius: 1, shDegree: 1, seed: 4, scaleSpread: 1.0, opacity: 0.3 });
  const rng = new Rng(11);
  for (let i = 0; i < n; i++) data.opacityLogits[i] = rng.uniform(-7, 3);
  for (let i = 0; i < n * 4; i++) data.quats[i] = rng.normal();
  const cloud = GaussianCloud.fromData(gpu, data);
  const grads = GaussianGrads.create(gpu, n, data.shDegree);
  const K = cloud.shCoeffs;
  const adam = await Adam.create(gpu, SPLAT_BLOCK_NAMES.map((name) => ({ name, param: cloud[name], grad: grads[name], count: n * blockWidth(name, K), lr: 0.01 })));
  const moments: Record<string, { m: Float32Array; v: Float32Array }> = {};
  for (const name of SPLAT_BLOCK_NAMES) {
    const len = n * blockWidth(name, K);
    moments[name] = { m: Float32Array.from({ length: len }, () => rng.normal()), v: Float32Array.from({ length: len }, () => rng.next()) };
    gpu.write(adam.moments(name).m, moments[name].m);
    gpu.write(adam.moments(name).v, moments[name].v);
  }
  const mcmc = await McmcDensifier.create(gpu, CONFIG);

  // Regularisers first (grads start at zero).
  await mcmc.regularize({ cloud, grads });
  const reg = regularizerGradsReference(data, 0.01, 0.02);
  const regErr = Math.max(maxAbsDiff(await gpu.readF32(grads.opacityLogits, n), reg.opacityLogits), maxAbsDiff(await gpu.readF32(grads.logScales, n * 3), reg.logScales));
  expect(regErr).toBeLessThan(1e-9 + 1e-5 * Math.max(...reg.logScales));

  const plan = planMcmc(data.opacityLogits, { minOpacity: 0.01, capMax: 330, growFactor: 1.05 }, rng.asFunction());
  expect(plan.relocated).toBeGreaterThan(0);
  expect(plan.added).toBe(15);
  const state = await mcmc.apply({ cloud, grads }, adam, plan);
  const got = await state.cloud.toData();
  const want = applyPlanReference(data, plan);
  expect(got.count).toBe(plan.rows);
  for (const name of SPLAT_BLOCK_NAMES) expect(maxAbsDiff(got[name], want[name]), name).toBeLessThan(1e-5);
  for (const name of SPLAT_BLOCK_NAMES) {
    const w = blockWidth(name, K);
    expect(maxAbsDiff(await gpu.readF32(adam.moments(name).m, plan.rows * w), gatherMomentReference(moments[name].m, w, plan)), `${name}.m`).toBe(0);
    expect(maxAbsDiff(await gpu.readF32(adam.moments(name).v, plan.rows * w), gatherMomentReference(moments[name].v, w, plan)), `${name}.v`).toBe(0);
  }

  // Noise: only nearly transparent splats move, by their covariance.
  const scale = 0.002 * 5e5;
  await mcmc.injectNoise(state, 0.002, 777);
  const means = await gpu.readF32(state.cloud.means, plan.rows * 3);
  const wantMeans = injectNoiseReference(got, 777, scale);
  let moved = 0;
  for (let i = 0; i < plan.rows * 3; i++) if (Math.abs(wantMeans[i] - got.means[i]) > 1e-4) moved++;
  expect(moved).toBeGreaterThan(0);
  const tol = 1e-5 * Math.max(1, ...Array.from(wantMeans, Math.abs));
  expect(maxAbsDiff(means, wantMeans)).toBeLessThan(tol);

  state.cloud.destroy();
  state.grads.destroy();
  adam.destroy();
  mcmc.destroy();
}

describe('mcmc densification on the GPU', () => {
  it('gather, moments, noise and regularisers match the reference', () => gpuMatchesReference());

  it('match it with SH, SH gradients and moments over the binding limit (bound in ranges)', async () => {
    const whole = await dispatchesUnderLimit(getGpu(), undefined, gpuMatchesReference);
    // 9000 bytes per binding: SH (48 bytes per splat, 300 -> 330 splats) in two ranges.
    const split = await dispatchesUnderLimit(getGpu(), '9000', gpuMatchesReference);
    expect(split).toBe(whole + 3); // one more range for the SH rows, its m and its v
  });

  it('a trainer run with strategy "mcmc" relocates dead splats and grows towards the cap', async () => {
    const gpu = getGpu();
    const config = await tinyScene({
      // Splats start just above minOpacity, so those whose opacity the reward lowers die within two steps.
      representation: { kind: 'splats', init: { count: 48, radius: 0.5, opacity: 0.3 } },
      schedule: { steps: 6, lr: { opacityLogits: 0.1 } },
      densify: { strategy: 'mcmc', start: 0, every: 2, minOpacity: 0.27, capMax: 56, growFactor: 1.1, opacityReg: 0 },
      output: { checkpointEvery: 0, turntable: { frames: 0 } },
    });
    const out = mkdtempSync(join(tmpdir(), 'rl4d-mcmc-'));
    const r = await train(gpu, config, { outDir: out, createAlgorithm: rewardGradientOnly, progress: { write: () => true }, skipOutputs: true });
    const rows = readMetrics(join(out, 'metrics.jsonl'));
    const relocated = rows.reduce((a, x) => a + (x.metrics['densify.relocated'] ?? 0), 0);
    const added = rows.reduce((a, x) => a + (x.metrics['densify.added'] ?? 0), 0);
    console.log(`mcmc trainer run: relocated ${relocated}, added ${added}, splats 48 -> ${r.splats}`);
    expect(relocated).toBeGreaterThan(0);
    expect(added).toBeGreaterThan(0);
    expect(r.splats).toBe(48 + added);
    expect(r.splats).toBeLessThanOrEqual(56);
    const data = await trainedSplats(r).cloud.toData();
    for (const x of data.means) expect(Number.isFinite(x)).toBe(true);
    r.representation.destroy();

    // Resumed after step 3, the run ends where the uninterrupted one ended (same draws per step).
    const split = mkdtempSync(join(tmpdir(), 'rl4d-mcmc-'));
    const quiet = { write: () => true };
    (await train(gpu, config, { outDir: split, createAlgorithm: rewardGradientOnly, progress: quiet, stopAfter: 3 })).representation.destroy();
    const resumed = await train(gpu, config, { outDir: split, resume: true, createAlgorithm: rewardGradientOnly, progress: quiet, skipOutputs: true });
    const back = await trainedSplats(resumed).cloud.toData();
    resumed.representation.destroy();
    expect(back.count).toBe(data.count);
    // Within 1e-6 rather than bit-equal: the backward pass adds floats with CAS atomics whose order may vary.
    for (const name of ['means', 'logScales', 'opacityLogits', 'sh'] as const) expect(maxAbsDiff(back[name], data[name]), name).toBeLessThan(1e-6);
  });
});
