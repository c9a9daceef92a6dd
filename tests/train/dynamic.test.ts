// 4D splats through the trainer with the static-then-dynamic schedule: during the static
// stage only the canonical splats change (the trajectory field stays at zero), during the
// dynamic stage only the field changes; a resumed run continues the schedule; result.glb holds
// the 4D extension. Bad dynamic options fail before any GPU work.
import { describe, expect, it } from 'vitest';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { loadGaussians } from '../../src/io/gaussians-file.ts';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { useGpu } from '../helpers/gpu.ts';
import { parseSceneConfig } from '../../src/train/config.ts';
import { registryValidators } from '../../src/train/validators.ts';
import { train } from '../../src/train/trainer.ts';
import { loadCheckpoint } from '../../src/train/checkpoint.ts';
import { randomGaussiansInSphere } from '../../src/scene/gaussian-init.ts';
import { RL4D_DEFORMATION_FIELD } from '../../src/io/glb-4d.ts';
import type { GaussianData } from '../../src/scene/gaussian-data.ts';
import type { TrajectoryState } from '../../src/scene/deform/deformation-field.ts';
import { InputError } from '../../src/errors.ts';
import { DynamicSplatRepresentation } from '../../src/train/dynamic-representation.ts';
import { DEFAULT_TRAJECTORY } from '../../src/scene/deform/trajectory-field.ts';

const getGpu = useGpu();
const quiet = { write: () => true };

function scene(dynamic: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    prompt: 'a moving blob',
    seed: 2,
    representation: {
      kind: 'splats',
      init: { count: 40, radius: 0.5, opacity: 0.5 },
      dynamic: { deformation: 'trajectory', options: { degree: 1, frequencies: 1, lr: 0.01 }, times: 4, schedule: 'static-then-dynamic', staticSteps: 2, ...dynamic },
    },
    rewards: { components: [{ name: 'geometry', weight: 1 }] },
    algorithm: { name: 'reward-gradient', options: {} },
    schedule: { steps: 4 },
    cameras: { width: 16, height: 16, viewsPerStep: 2 },
    output: { checkpointEvery: 0, turntable: { frames: 2, size: 16, gif: false } },
  };
}

const maxDiff = (a: Float32Array, b: Float32Array) => a.reduce((m, x, i) => Math.max(m, Math.abs(x - b[i])), 0);

describe('4D splats through the trainer', () => {
  it('refuses bad dynamic options naming the field', async () => {
    for (const [d, pattern] of [
      [{ options: { degree: 1, wobble: 2 } }, /representation\.dynamic\.options\.wobble is not an option of a trajectory field/],
      [{ staticSteps: 9 }, /representation\.dynamic\.staticSteps \(9\) must be within the run/],
      [{ deformation: 'hexplane', options: { resolutions: [16, 32, 64, 128, 256] } }, /representation\.dynamic\.options/],
    ] as const) {
      const err = await parseSceneConfig(scene(d), registryValidators(), { file: 'd.json' }).catch((e) => e);
      expect(err).toBeInstanceOf(InputError);
      expect(String(err.message)).toMatch(pattern);
    }
  });

  it('trains the canonical splats first, then the field, across a resume', async () => {
    const gpu = getGpu();
    const config = await parseSceneConfig(scene(), registryValidators(), { file: 'd4.json' });
    const out = mkdtempSync(join(tmpdir(), 'rl4d-4d-'));
    const first = await train(gpu, config, { outDir: out, progress: quiet, stopAfter: 2 });
    first.representation.destroy();
    const mid = (await loadCheckpoint(out)).representation as { canonical: GaussianData; field: TrajectoryState };
    const init = config.representation.init;
    const start = randomGaussiansInSphere({ count: init.count, radius: init.radius, shDegree: init.shDegree, seed: config.seed, opacity: init.opacity, scale: init.scale, center: config.cameras.target });
    expect(maxDiff(mid.canonical.means, start.means)).toBeGreaterThan(1e-5); // static stage moved the splats
    expect(Math.max(...Array.from(mid.field.position, Math.abs))).toBe(0); // ... and not the field

    const r = await train(gpu, config, { outDir: out, progress: quiet, resume: true });
    r.representation.destroy();
    const end = (await loadCheckpoint(out)).representation as { canonical: GaussianData; field: TrajectoryState };
    expect(maxDiff(end.canonical.means, mid.canonical.means)).toBe(0); // dynamic stage leaves the canonical splats
    expect(Math.max(...Array.from(end.field.position, Math.abs))).toBeGreaterThan(1e-6); // ... and trains the field
    const glb = readFileSync(join(out, 'result.glb'));
    expect(glb.toString('ascii', 0, 4)).toBe('glTF');
    expect(glb.toString('utf8', 20, 20 + glb.readUInt32LE(12))).toContain(RL4D_DEFORMATION_FIELD);
    // One PLY per flip-book frame; the last frame has moved away from the first.
    const frameFiles = readdirSync(join(out, 'frames')).filter((f) => f.endsWith('.ply')).sort();
    expect(frameFiles.length).toBe(config.representation.dynamic!.times);
    const frame0 = await loadGaussians(join(out, 'frames', frameFiles[0]));
    const frameN = await loadGaussians(join(out, 'frames', frameFiles[frameFiles.length - 1]));
    expect(maxDiff(frame0.means, frameN.means)).toBeGreaterThan(1e-6);
  });

  it('regularisers add gradients that, followed, lower temporal roughness and non-rigidity', async () => {
    const gpu = getGpu();
    const canonical = randomGaussiansInSphere({ count: 40, radius: 0.5, shDegree: 0, seed: 4 });
    const config = { ...DEFAULT_TRAJECTORY, degree: 2, frequencies: 1 };
    const rep = await DynamicSplatRepresentation.create(gpu, canonical, { kind: 'trajectory', config }, {}, { schedule: 'joint', staticSteps: 0, frames: 2 }, 1);
    const field = rep.inner.field;
    // A non-rigid, wiggly motion: every splat on its own random trajectory.
    const state = (await field.toState()) as TrajectoryState;
    let seed = 9;
    const rand = () => ((seed = (seed * 16807) % 2147483647) / 2147483647 - 0.5) * 0.4;
    state.position = state.position.map(() => rand());
    field.fromState(state);
    const weights = { smoothness: 1, planeTV: 0, rigidity: 1, rigidityNeighbours: 6 };
    const losses = async () => {
      await gpu.run('zero', (enc) => rep.zeroGrads(enc));
      return rep.regularise(0.5, 0.25, weights);
    };
    const before = await losses();
    expect(before['regulariser.smoothness']).toBeGreaterThan(0);
    expect(before['regulariser.rigidity']).toBeGreaterThan(0);
    const block = field.params()[0];
    const grad = await gpu.readF32(block.grad, block.count);
    expect(grad.some((g) => g !== 0)).toBe(true);
    // One small step against the gradient lowers the summed loss.
    const total0 = before['regulariser.smoothness'] + before['regulariser.rigidity'];
    const params = await gpu.readF32(block.param, block.count);
    const norm = Math.sqrt(grad.reduce((a, g) => a + g * g, 0));
    gpu.write(block.param, params.map((p, i) => p - (0.02 * grad[i]) / norm));
    const after = await losses();
    expect(after['regulariser.smoothness'] + after['regulariser.rigidity']).toBeLessThan(total0);
    rep.destroy();
  });

  it('grpo can perturb the deformation field alone', async () => {
    const gpu = getGpu();
    const raw = {
      ...scene({ schedule: 'joint', staticSteps: 0 }),
      algorithm: { name: 'grpo', options: { block: ['deform.trajectory.position'], groupSize: 2, epochs: 1, sigma: 0.05 } },
      schedule: { steps: 2 },
    };
    const config = await parseSceneConfig(raw, registryValidators(), { file: 'grpo-4d.json' });
    const out = mkdtempSync(join(tmpdir(), 'rl4d-4d-grpo-'));
    const r = await train(gpu, config, { outDir: out, progress: quiet, skipOutputs: true });
    r.representation.destroy();
    const end = (await loadCheckpoint(out)).representation as { canonical: GaussianData; field: TrajectoryState };
    const init = config.representation.init;
    const start = randomGaussiansInSphere({ count: init.count, radius: init.radius, shDegree: init.shDegree, seed: config.seed, opacity: init.opacity, scale: init.scale, center: config.cameras.target });
    expect(maxDiff(end.canonical.means, start.means)).toBe(0); // the canonical splats are not in the policy's block
    expect(Math.max(...Array.from(end.field.position, Math.abs))).toBeGreaterThan(1e-6); // the field moved
  });
});
