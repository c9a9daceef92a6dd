// The trainer with representation.kind "nerf": a few reward-gradient steps on a tiny hash-grid
// field, occupancy-grid updates on schedule, resume state, and the outputs (mesh.glb by marching
// cubes, splats sampled from the field as result.glb/.ply), resume (static and 4D); bad NeRF options fail before any GPU work.
import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { useGpu } from '../helpers/gpu.ts';
import { parseSceneConfig } from '../../src/train/config.ts';
import { registryValidators } from '../../src/train/validators.ts';
import { train } from '../../src/train/trainer.ts';
import { readMetrics } from '../../src/train/metrics.ts';
import { loadGaussians } from '../../src/io/gaussians-file.ts';
import { InputError } from '../../src/errors.ts';
import type { NerfRepresentation } from '../../src/train/nerf-representation.ts';
import { HexPlaneField } from '../../src/scene/deform/hexplane-field.ts';
import type { Algorithm } from '../../src/rl/algorithm.ts';

const getGpu = useGpu();

function scene(options: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    prompt: 'a red cube',
    seed: 1,
    representation: {
      kind: 'nerf',
      init: { radius: 0.6 },
      // A large feature init gives the untrained field density to mesh.
      options: { levels: 4, featuresPerLevel: 2, log2TableSize: 10, baseResolution: 4, finestResolution: 32, hiddenWidth: 16, occupancyResolution: 8, occupancyEvery: 2, meshResolution: 24, isoDensity: 1, exportSplats: 200, featureInit: 0.5, ...options },
    },
    rewards: { components: [{ name: 'prompt-attributes', weight: 1 }] },
    algorithm: { name: 'reward-gradient', options: {} },
    schedule: { steps: 4 },
    cameras: { width: 16, height: 16, viewsPerStep: 2, radius: [2.6, 2.6] },
    output: { checkpointEvery: 2, turntable: { frames: 2, size: 16, gif: false } },
  };
}

describe('nerf through the trainer', () => {
  it('refuses bad NeRF options naming the field', async () => {
    for (const [opts, pattern] of [
      [{ levels: 40 }, /representation\.options\.levels must be an integer in \[1, 16\]/],
      [{ hashSize: 3 }, /representation\.options\.hashSize is not a NeRF option/],
      [{ featuresPerLevel: 3 }, /representation\.options\.featuresPerLevel must be 1, 2, 4 or 8/],
    ] as const) {
      const err = await parseSceneConfig(scene(opts), registryValidators(), { file: 'n.json' }).catch((e) => e);
      expect(err).toBeInstanceOf(InputError);
      expect(String(err.message)).toMatch(pattern);
    }
  });

  it('refuses 4D options a NeRF cannot use, naming the field', async () => {
    const dynamic = (d: Record<string, unknown>) => ({ ...scene(), representation: { ...(scene().representation as object), dynamic: { deformation: 'hexplane', ...d } } });
    for (const [cfg, pattern] of [
      [dynamic({ deformation: 'trajectory' }), /representation\.dynamic\.deformation 'trajectory' is per splat; a NeRF takes "hexplane"/],
      [dynamic({ regularisers: { rigidity: 1 } }), /representation\.dynamic\.regularisers\.rigidity acts on splat means/],
      [dynamic({ options: { resolutions: [1] } }), /representation\.dynamic\.options: HexPlane config 'resolutions'/],
      [dynamic({ schedule: 'static-then-dynamic', staticSteps: 9 }), /representation\.dynamic\.staticSteps \(9\) must be within the run/],
      [{ ...scene(), schedule: { steps: 4, lr: { 'deform.planes': 0.1 } } }, /schedule\.lr\.deform\.planes: no such parameter block; a NeRF has nerf\.hash, nerf\.mlp\./],
    ] as const) {
      const err = await parseSceneConfig(cfg, registryValidators(), { file: 'n.json' }).catch((e) => e);
      expect(err).toBeInstanceOf(InputError);
      expect(String(err.message)).toMatch(pattern);
    }
    // With a deformation field its blocks take learning rates.
    const ok = await parseSceneConfig({ ...dynamic({}), schedule: { steps: 4, lr: { 'deform.planes': 0.1 } } }, registryValidators(), { file: 'n.json' });
    expect(ok.representation.nerf?.dynamic?.deformation.resolutions).toEqual([16, 32]);
  });

  it('trains a few steps and writes mesh.glb, result.glb and result.ply', async () => {
    const gpu = getGpu();
    const config = await parseSceneConfig(scene(), registryValidators(), { file: 'nerf.json' });
    const out = mkdtempSync(join(tmpdir(), 'rl4d-nerf-'));
    const r = await train(gpu, config, { outDir: out, progress: { write: () => true } });
    r.representation.destroy();
    const rows = readMetrics(join(out, 'metrics.jsonl'));
    expect(rows.length).toBe(4);
    for (const row of rows) {
      expect(Number.isFinite(row.reward)).toBe(true);
      expect(row.phaseMs.render).toBeGreaterThan(0);
      expect(row.phaseMs.backward).toBeGreaterThan(0);
    }
    expect(rows.filter((x) => x.metrics['nerf.occupancyUpdate'] === 1).map((x) => x.step)).toEqual([1, 3]);
    const glb = readFileSync(join(out, 'mesh.glb'));
    expect(glb.toString('ascii', 0, 4)).toBe('glTF');
    const jsonLength = glb.readUInt32LE(12);
    const gltf = JSON.parse(glb.toString('utf8', 20, 20 + jsonLength));
    expect(gltf.meshes.length).toBeGreaterThan(0);
    const positions = gltf.accessors[gltf.meshes[0].primitives[0].attributes.POSITION];
    console.log(`nerf mesh: ${positions.count} vertices; reward ${r.firstReward.toFixed(4)} -> ${r.finalReward.toFixed(4)}`);
    expect(positions.count).toBeGreaterThan(0);
    const splats = await loadGaussians(join(out, 'result.ply'));
    expect(splats.count).toBeGreaterThan(0);
  });

  it('renders normals only when a reward reads them', async () => {
    const gpu = getGpu();
    const { createAlgorithm } = await import('../../src/rl/registry.ts');
    // One step; the algorithm is the real one, wrapped to look at what a render with this
    // step's options gives before it runs (and runs its backward).
    const firstStep = async (components: object[]) => {
      const seen: { normals?: boolean; maxNormal: number }[] = [];
      const config = await parseSceneConfig({ ...scene(), rewards: { components }, schedule: { steps: 1 } }, registryValidators(), { file: 'nerf.json' });
      const r = await train(gpu, config, {
        outDir: mkdtempSync(join(tmpdir(), 'rl4d-nerf-')),
        progress: { write: () => true },
        skipOutputs: true,
        createAlgorithm: async (name, options, g): Promise<Algorithm> => {
          const inner = await createAlgorithm(name, options, g);
          return {
            name: inner.name,
            async step(ctx) {
              const frame = await ctx.representation.render(ctx.cameras, ctx.renderOptions);
              const n = await gpu.readF32(frame.normal);
              frame.destroy();
              seen.push({ normals: ctx.renderOptions.normals, maxNormal: n.reduce((m, x) => Math.max(m, Math.abs(x)), 0) });
              return inner.step(ctx);
            },
          };
        },
      });
      r.representation.destroy();
      expect(readMetrics(join(r.outDir, 'metrics.jsonl'))[0].phaseMs.backward).toBeGreaterThan(0);
      return seen[0];
    };
    // Geometry without its depth-normal term reads no normals; its all-zero normal cotangent
    // then meets a frame without normals, and the step still runs.
    expect(await firstStep([{ name: 'prompt-attributes', weight: 1 }, { name: 'geometry', weight: 0.2, options: { normalWeight: 0 } }])).toEqual({ normals: false, maxNormal: 0 });
    const on = await firstStep([{ name: 'prompt-attributes', weight: 1 }, { name: 'geometry', weight: 0.2 }]);
    expect(on.normals).toBe(true);
    expect(on.maxNormal).toBeGreaterThan(1e-3);
  });

  it('resumed after an interruption, ends where an uninterrupted run ends', async () => {
    const gpu = getGpu();
    const config = await parseSceneConfig(scene(), registryValidators(), { file: 'nerf.json' });
    const quiet = { write: () => true };
    const full = await train(gpu, config, { outDir: mkdtempSync(join(tmpdir(), 'rl4d-nerf-')), progress: quiet, skipOutputs: true });
    const split = mkdtempSync(join(tmpdir(), 'rl4d-nerf-'));
    (await train(gpu, config, { outDir: split, progress: quiet, stopAfter: 3 })).representation.destroy();
    const resumed = await train(gpu, config, { outDir: split, progress: quiet, resume: true, skipOutputs: true });
    const a = await (full.representation as NerfRepresentation).radianceField.readParams();
    const b = await (resumed.representation as NerfRepresentation).radianceField.readParams();
    full.representation.destroy();
    resumed.representation.destroy();
    // Within 1e-6 rather than bit-equal: the NeRF backward adds floats with CAS atomics whose order may vary.
    for (const k of ['hash', 'mlp'] as const) {
      let m = 0;
      for (let i = 0; i < a[k].length; i++) m = Math.max(m, Math.abs(a[k][i] - b[k][i]));
      expect(m, k).toBeLessThan(1e-6);
    }
  });
  it('a 4D NeRF resumed across its static-to-dynamic switch ends where an uninterrupted run ends', async () => {
    const gpu = getGpu();
    const base = scene();
    const cfg = {
      ...base,
      representation: {
        ...(base.representation as object),
        dynamic: { deformation: 'hexplane', options: { resolutions: [4], timeResolution: 3, features: 2, hidden: 8 }, times: 3, schedule: 'static-then-dynamic', staticSteps: 2, regularisers: { planeTV: 1e-3 } },
      },
    };
    const config = await parseSceneConfig(cfg, registryValidators(), { file: 'nerf-4d.json' });
    const quiet = { write: () => true };
    const full = await train(gpu, config, { outDir: mkdtempSync(join(tmpdir(), 'rl4d-nerf4d-')), progress: quiet, skipOutputs: true });
    const split = mkdtempSync(join(tmpdir(), 'rl4d-nerf4d-'));
    // Interrupted after step 3: the checkpoint of step 2 is at the switch to the dynamic stage.
    (await train(gpu, config, { outDir: split, progress: quiet, stopAfter: 3 })).representation.destroy();
    const resumed = await train(gpu, config, { outDir: split, progress: quiet, resume: true, skipOutputs: true });
    const [ra, rb] = [full, resumed].map((r) => r.representation as NerfRepresentation);
    const da = await ra.deformation!.toState();
    const db = await rb.deformation!.toState();
    const fa = await ra.radianceField.readParams();
    const fb = await rb.radianceField.readParams();
    ra.destroy();
    rb.destroy();
    const maxDiff = (x: Float32Array, y: Float32Array) => x.reduce((m, v, i) => Math.max(m, Math.abs(v - y[i])), 0);
    // The dynamic stage moved the deformation away from its zero-offset start.
    const start = await HexPlaneField.create(gpu, config.representation.nerf!.dynamic!.deformation, config.representation.nerf!.field.seed);
    const init = await start.toState();
    start.destroy();
    expect(maxDiff(da.mlp, init.mlp), 'deformation trained').toBeGreaterThan(1e-6);
    // Within 1e-6 (CAS float atomics may add in another order), as for the static field.
    expect(maxDiff(da.planes, db.planes), 'planes').toBeLessThan(1e-6);
    expect(maxDiff(da.mlp, db.mlp), 'deformation mlp').toBeLessThan(1e-6);
    for (const k of ['hash', 'mlp'] as const) expect(maxDiff(fa[k], fb[k]), k).toBeLessThan(1e-6);
  });
});
