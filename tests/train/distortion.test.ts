// Depth distortion through the training stack: a 4D (deformed) representation renders it per
// camera time and takes its cotangent back through the field (against central differences
// of the f64 reference chain); the trainer renders it when a reward needs it and the
// distortion falls under reward-gradient; a NeRF run that asks for it fails before any step.
import { describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Camera } from '../../src/math/camera.ts';
import type { RenderOptions } from '../../src/render/types.ts';
import { referenceDistortion } from '../../src/reference/splat/distortion.ts';
import { basisSize } from '../../src/reference/deform/trajectory.ts';
import type { TrajectoryState } from '../../src/scene/deform/deformation-field.ts';
import { evaluateState } from '../../src/scene/deform/evaluate-state.ts';
import { TrajectoryField } from '../../src/scene/deform/trajectory-field.ts';
import { DeformedSplatRepresentation } from '../../src/train/deformed-representation.ts';
import { parseSceneConfig } from '../../src/train/config.ts';
import { registryValidators } from '../../src/train/validators.ts';
import { train, trainedSplats } from '../../src/train/trainer.ts';
import { randomGaussiansInSphere } from '../../src/scene/gaussian-init.ts';
import { readMetrics } from '../../src/train/metrics.ts';
import { useGpu } from '../helpers/gpu.ts';
import { expectClose, expectGradClose } from '../helpers/compare.ts';
import { cameras as orbitCameras, randomArray, smallScene, toF64 } from '../render/scenes.ts';
import { rewardGradientOnly, tinyScene } from './fixtures/tiny-scene.ts';

const gpu = useGpu();
const quiet = { write: () => true };
const W = 17;
const H = 15;
const RANGE: RenderOptions = { distortionRange: [1, 10] };
const distortionOnly = { entropyWeight: 0, normalWeight: 0, anisotropyWeight: 0, floaterWeight: 0 };

describe('distortion through a deformed (4D) representation', () => {
  const canonical = smallScene(6, 0, 61, { opacity: 0.7, scale: 0.22 });
  const config = { timeRange: [0, 1] as [number, number], degree: 1, frequencies: 1, rotation: true, lr: 1e-2 };
  const B = basisSize(config);
  const state: TrajectoryState = { kind: 'trajectory', config, count: canonical.count, position: randomArray(canonical.count * B * 3, 5).map((v) => 0.2 * v), rotation: randomArray(canonical.count * B * 4, 6).map((v) => 0.1 * v) };
  // Two times interleaved, so that the batch is split by time and gathered back.
  const cams: Camera[] = orbitCameras(3, W, H, 3);
  [0.3, 0.8, 0.3].forEach((t, i) => (cams[i].time = t));
  const cot = randomArray(3 * W * H, 9);

  it('renders each view at its time and back-propagates a distortion cotangent through the field', async () => {
    const g = gpu();
    const rep = await DeformedSplatRepresentation.create(g, canonical, await TrajectoryField.fromStateOn(g, structuredClone(state)), {
      learningRates: { means: 1e-2, logScales: 1e-2, quats: 1e-2, opacityLogits: 1e-2, sh: 1e-2 },
    });
    const frame = await rep.render(cams, { ...RANGE, distortion: true });
    expect(frame.distortion).toBeDefined();
    const got = await g.readF32(frame.distortion!, 3 * W * H);
    const want = cams.map((c) => referenceDistortion(evaluateState(state, c.time!, canonical), [c], RANGE));
    want.forEach((img, k) => expectClose(got.subarray(k * W * H, (k + 1) * W * H), img, 1e-4, `view ${k} distortion`));
    expect(Math.max(...want.map((img) => Math.max(...img)))).toBeGreaterThan(1e-3);

    await g.run('zero', (enc) => rep.zeroGrads(enc));
    const cotBuf = g.upload('distortion cotangent', cot);
    await rep.backward(frame, { distortion: cotBuf });
    const gotMeans = await g.readF32(rep.grads.means, canonical.count * 3);
    cotBuf.destroy();
    frame.destroy();
    rep.destroy();

    const c64 = toF64(canonical);
    const means = c64.means as unknown as Float64Array;
    const loss = () => {
      let l = 0;
      cams.forEach((cam, k) => {
        const d = referenceDistortion(evaluateState(state, cam.time!, c64), [cam], RANGE);
        for (let i = 0; i < W * H; i++) l += cot[k * W * H + i] * d[i];
      });
      return l;
    };
    const fd = new Float64Array(means.length);
    for (let i = 0; i < means.length; i++) {
      const keep = means[i];
      means[i] = keep + 1e-6;
      const up = loss();
      means[i] = keep - 1e-6;
      const down = loss();
      means[i] = keep;
      fd[i] = (up - down) / 2e-6;
    }
    expect(Math.max(...Array.from(fd, Math.abs))).toBeGreaterThan(1e-4);
    expectGradClose(gotMeans, fd, 'canonical means');
  });
});

describe('distortion in the trainer', () => {
  it('renders distortion when the geometry reward weighs it, logs it, and reward-gradient lowers it', async () => {
    const init = { count: 48, radius: 0.5, opacity: 0.6, scale: 0.12 };
    const config = await tinyScene({
      rewards: { components: [{ name: 'geometry', weight: 1, options: { ...distortionOnly, distortionWeight: 1000 } }] },
      representation: { kind: 'splats', init },
      densify: { strategy: 'none' },
      schedule: { steps: 40 },
    });
    const out = mkdtempSync(join(tmpdir(), 'rl4d-distortion-'));
    const r = await train(gpu(), config, { outDir: out, createAlgorithm: rewardGradientOnly, progress: quiet, skipOutputs: true });
    const trained = await trainedSplats(r).cloud.toData();
    r.representation.destroy();
    const rows = readMetrics(join(out, 'metrics.jsonl'));
    const d = rows.map((row) => row.metrics['reward/geometry.distortion']);
    expect(d.every((x) => Number.isFinite(x) && x > 0), `distortion logged: ${d}`).toBe(true);
    expect(rows.every((row) => row.metrics['reward/failures'] === 0)).toBe(true);
    // The trainer's cameras differ per step; measure before and after on fixed ones.
    const fixed = orbitCameras(4, 24, 24, config.cameras.radius[0]);
    const initial = randomGaussiansInSphere({ ...init, shDegree: config.representation.init.shDegree, seed: config.seed, center: config.cameras.target });
    const mean = (a: Float64Array) => a.reduce((s, x) => s + x, 0) / a.length;
    const before = mean(referenceDistortion(initial, fixed));
    const after = mean(referenceDistortion(trained, fixed));
    expect(before).toBeGreaterThan(0);
    expect(after, `mean distortion before ${before}, after ${after}`).toBeLessThan(0.8 * before);
  });

  it('representation.distortionRange in the scene config reaches the renderer; a reversed range is refused', async () => {
    const firstDistortion = async (distortionRange?: [number, number]) => {
      const config = await tinyScene({
        rewards: { components: [{ name: 'geometry', weight: 1, options: { ...distortionOnly, distortionWeight: 1000 } }] },
        representation: { kind: 'splats', init: { count: 32, radius: 0.5, opacity: 0.6, scale: 0.12 }, ...(distortionRange ? { distortionRange } : {}) },
        densify: { strategy: 'none' },
        schedule: { steps: 1 },
      });
      const out = mkdtempSync(join(tmpdir(), 'rl4d-distortion-range-'));
      const r = await train(gpu(), config, { outDir: out, createAlgorithm: rewardGradientOnly, progress: quiet, skipOutputs: true });
      r.representation.destroy();
      return readMetrics(join(out, 'metrics.jsonl'))[0].metrics['reward/geometry.distortion'];
    };
    // A range closer to the object's depths (about 2.5) spreads the mapped depths more: dm/dz is
    // about 5x the default's there, so the squared-difference distortion grows by far more than 5.
    const wide = await firstDistortion();
    const near = await firstDistortion([1, 10]);
    expect(wide).toBeGreaterThan(0);
    expect(near / wide, `default ${wide}, [1, 10] ${near}`).toBeGreaterThan(5);
    await expect(tinyScene({ representation: { kind: 'splats', distortionRange: [10, 1] } })).rejects.toThrow(/representation\.distortionRange.*near < far/);
  });

  it('grpo scores its candidate renders with their distortion images', async () => {
    const config = await parseSceneConfig(
      {
        prompt: 'a small blob',
        seed: 3,
        representation: { kind: 'splats', init: { count: 32, radius: 0.5, opacity: 0.6 } },
        rewards: { components: [{ name: 'geometry', weight: 1, options: { ...distortionOnly, distortionWeight: 1000 } }] },
        algorithm: { name: 'grpo', options: { groupSize: 4, epochs: 1 } },
        schedule: { steps: 2 },
        cameras: { width: 16, height: 16, viewsPerStep: 2 },
        densify: { strategy: 'none' },
      },
      registryValidators(),
      { file: 'grpo.json' },
    );
    const out = mkdtempSync(join(tmpdir(), 'rl4d-distortion-grpo-'));
    const r = await train(gpu(), config, { outDir: out, progress: quiet, skipOutputs: true });
    r.representation.destroy();
    const rows = readMetrics(join(out, 'metrics.jsonl'));
    for (const row of rows) {
      const failures = Object.entries(row.metrics).filter(([k, v]) => k.endsWith('failures') && v !== 0);
      expect(failures, JSON.stringify(row.metrics)).toEqual([]);
      const d = Object.entries(row.metrics).filter(([k]) => k.endsWith('geometry.distortion')).map(([, v]) => v);
      expect(d.length, JSON.stringify(Object.keys(row.metrics))).toBeGreaterThan(0);
      expect(d.every((x) => x > 0)).toBe(true);
    }
  });

  it('refuses a NeRF run whose reward needs distortion, naming the reward and the representation', async () => {
    const config = await parseSceneConfig(
      {
        prompt: 'a red cube',
        seed: 1,
        representation: { kind: 'nerf', init: { radius: 0.6 }, options: { levels: 2, featuresPerLevel: 2, log2TableSize: 8, baseResolution: 4, finestResolution: 8, hiddenWidth: 8 } },
        rewards: { components: [{ name: 'geometry', weight: 1, options: { distortionWeight: 10 } }] },
        algorithm: { name: 'reward-gradient', options: {} },
        schedule: { steps: 2 },
        cameras: { width: 8, height: 8, viewsPerStep: 1 },
      },
      registryValidators(),
      { file: 'nerf.json' },
    );
    const out = mkdtempSync(join(tmpdir(), 'rl4d-distortion-nerf-'));
    await expect(train(gpu(), config, { outDir: out, progress: quiet })).rejects.toThrow(/'geometry' read the depth distortion image, which the 'nerf' representation cannot render/);
  });
});
