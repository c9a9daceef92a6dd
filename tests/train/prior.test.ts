// The trainer's score prior: config checks before any GPU work (procedural source, missing
// model file, sds without a prior), the timestep schedule as SDS annealing options (same range
// at every step as the schedule itself), and a short sds run through the trainer that moves
// renders towards the procedural exemplars.
import { describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { useGpu } from '../helpers/gpu.ts';
import { parseSceneConfig } from '../../src/train/config.ts';
import { registryValidators } from '../../src/train/validators.ts';
import { train, trainedSplats } from '../../src/train/trainer.ts';
import { parseProcedural, proceduralExemplars } from '../../src/train/prior-factory.ts';
import { timestepOptions } from '../../src/train/timestep-options.ts';
import { timestepRange as scheduleRange, type TimestepSchedule } from '../../src/train/schedules.ts';
import { timestepRange as sdsRange, type TimestepScheduleOptions } from '../../src/rl/timestep-schedule.ts';
import { referenceRender } from '../../src/reference/splat/render.ts';
import { orbitCamera } from '../../src/math/camera.ts';
import { randomGaussiansInSphere } from '../../src/scene/gaussian-init.ts';
import type { GaussianData } from '../../src/scene/gaussian-data.ts';
import { InputError } from '../../src/errors.ts';

const getGpu = useGpu();
const quiet = { write: () => true };

const PROCEDURAL = { shape: 'cube', color: [0.9, 0.1, 0.1], size: 0.7, views: 4, elevation: 15, resolution: 16, splats: 4 };

function scene(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    prompt: 'a red cube',
    seed: 5,
    representation: { kind: 'splats', init: { count: 120, radius: 0.5, opacity: 0.5 }, background: [1, 1, 1] },
    rewards: { components: [{ name: 'geometry', weight: 1 }] },
    algorithm: { name: 'sds', options: { guidanceScale: 1 } },
    prior: { kind: 'exemplar', procedural: PROCEDURAL, cameraBandwidth: 40 },
    schedule: {
      steps: 24,
      timestep: { min: { kind: 'linear', from: 0.3, to: 0.02 }, max: { kind: 'linear', from: 0.9, to: 0.4 } },
      lr: { means: 0.002, logScales: 0.005, opacityLogits: 0.05, sh: 0.05 },
    },
    cameras: { elevation: [15, 15], radius: [2.6, 2.6], fov: [40, 40], viewsPerStep: 2, width: 16, height: 16 },
    densify: { strategy: 'none' },
    output: { checkpointEvery: 0, turntable: { frames: 0 } },
    ...overrides,
  };
}

async function errorOf(json: Record<string, unknown>): Promise<string> {
  try {
    await parseSceneConfig(json, registryValidators(), { file: 'p.json' });
  } catch (e) {
    expect(e).toBeInstanceOf(InputError);
    return (e as Error).message;
  }
  return 'no error';
}

describe('prior config', () => {
  it('refuses bad priors before any GPU work, naming the field', async () => {
    expect(await errorOf(scene({ prior: { kind: 'onnx', path: 'models/none.onnx' } }))).toMatch(/prior\.path 'models\/none\.onnx' does not exist/);
    expect(await errorOf(scene({ prior: undefined }))).toMatch(/algorithm 'sds' needs a score prior/);
    expect(await errorOf(scene({ prior: { kind: 'exemplar', procedural: { ...PROCEDURAL, shape: 'torus' } } }))).toMatch(/prior\.procedural\.shape/);
    expect(await errorOf(scene({ prior: { kind: 'exemplar', procedural: { ...PROCEDURAL, colour: [1, 0, 0] } } }))).toMatch(/prior\.procedural\.colour is not a field/);
    expect(await errorOf(scene({ prior: { kind: 'exemplar', images: [{ path: 'no.png' }] } }))).toMatch(/prior\.images\[0\]\.path 'no\.png' does not exist/);
    expect(await errorOf(scene({ algorithm: { name: 'sds', options: { anneal: 'linear' } } }))).toMatch(/schedule\.timestep and algorithm\.options\.anneal/);
    expect(await errorOf(scene({ algorithm: { name: 'reward-gradient', options: {} } }))).toMatch(/schedule\.timestep applies to score distillation/);
    expect(await errorOf(scene())).toBe('no error');
  });

  it('turns timestep schedules into annealing options with the same range at every step', () => {
    const total = 50;
    const cases: TimestepSchedule[] = [
      { min: 0.02, max: 0.98 },
      { min: { kind: 'linear', from: 0.3, to: 0.02 }, max: { kind: 'linear', from: 0.98, to: 0.5 } },
      { min: 0.02, max: { kind: 'piecewise', values: [[0, 0.98], [20, 0.5]] } },
    ];
    for (const ts of cases) {
      const o = { timestepRange: [0.02, 0.98], anneal: 'none', annealTo: [0.02, 0.5], annealAt: 0.5, ...timestepOptions(ts, total) } as TimestepScheduleOptions;
      for (let step = 0; step < total; step++) {
        const a = sdsRange(o, step, total);
        const b = scheduleRange(ts, step, total);
        expect(a[0]).toBeCloseTo(b[0], 9);
        expect(a[1]).toBeCloseTo(b[1], 9);
      }
    }
    expect(() => timestepOptions({ min: { kind: 'cosine', from: 0.5, to: 0.1 }, max: 0.9 }, total)).toThrow(/schedule\.timestep\.min/);
  });
});

describe('sds through the trainer', () => {
  it('moves renders towards the procedural exemplars', async () => {
    const gpu = getGpu();
    const config = await parseSceneConfig(scene(), registryValidators(), { file: 'sds.json' });
    const src = parseProcedural(PROCEDURAL);
    const cams = { radius: 2.6, fov: 40, target: [0, 0, 0] as [number, number, number], background: [1, 1, 1] as [number, number, number] };
    const exemplars = proceduralExemplars(src, cams);
    const views = exemplars.map((_, v) => orbitCamera({ elevation: 15, azimuth: (360 * v) / src.views, radius: 2.6, fovY: 40, width: 16, height: 16 }));
    // RMS distance of the cloud's renders (CPU reference) from the exemplars, view by view.
    const distance = (data: GaussianData) => {
      const img = referenceRender(data, views, { background: [1, 1, 1] });
      let sum = 0;
      exemplars.forEach((e, v) => e.rgb.forEach((c, i) => (sum += (Math.min(1, Math.max(0, img.rgb[v * e.rgb.length + i])) - c) ** 2)));
      return Math.sqrt(sum / img.rgb.length);
    };
    const init = config.representation.init;
    const start = randomGaussiansInSphere({ count: init.count, radius: init.radius, shDegree: init.shDegree, seed: config.seed, opacity: init.opacity, scale: init.scale, center: config.cameras.target });
    const out = mkdtempSync(join(tmpdir(), 'rl4d-sds-'));
    const r = await train(gpu, config, { outDir: out, progress: quiet, skipOutputs: true });
    const end = await trainedSplats(r).cloud.toData();
    r.representation.destroy();
    const before = distance(start);
    const after = distance(end);
    console.log(`sds through the trainer: RMS distance to exemplars ${before.toFixed(4)} -> ${after.toFixed(4)}`);
    expect(after).toBeLessThan(0.8 * before);
  });
});
