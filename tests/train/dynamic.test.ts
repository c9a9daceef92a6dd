// 4D splats through the trainer with the static-then-dynamic schedule: during the static
// stage only the canonical splats change (the trajectory field stays at zero), during the
// dynamic stage only the field changes; a resumed run continues the schedule; result.glb holds
// the 4D extension. Bad dynamic options fail before any GPU work.
import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync } from 'node:fs';
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
  });
});
