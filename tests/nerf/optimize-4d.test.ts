// End to end: `rl4d optimize` on a shortened copy of scenes/nerf-4d.json (a 4D NeRF driven by
// a reference video) trains both stages and writes glTF-valid meshes of the canonical field
// and of every frame time; the frames differ, so the deformation learned to move something.
// The CLI acquires and releases its own device.
import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { validatorErrors } from '../io/validate-glb.ts';
import { readMetrics } from '../../src/train/metrics.ts';

const { run } = await import('../../src/cli/commands/optimize.ts');

function meshPositions(glb: Buffer): Float32Array {
  const jsonLength = glb.readUInt32LE(12);
  const gltf = JSON.parse(glb.toString('utf8', 20, 20 + jsonLength));
  const acc = gltf.accessors[gltf.meshes[0].primitives[0].attributes.POSITION];
  const view = gltf.bufferViews[acc.bufferView];
  const bin = 20 + jsonLength + 8;
  const start = bin + (view.byteOffset ?? 0) + (acc.byteOffset ?? 0);
  return new Float32Array(glb.buffer.slice(glb.byteOffset + start, glb.byteOffset + start + acc.count * 12));
}

describe('rl4d optimize scenes/nerf-4d.json', () => {
  it('trains both stages and writes valid canonical and per-frame meshes', async () => {
    const scene = JSON.parse(readFileSync(new URL('../../scenes/nerf-4d.json', import.meta.url), 'utf8'));
    scene.schedule.steps = 8;
    scene.representation.dynamic.staticSteps = 4;
    scene.representation.dynamic.times = 3;
    // A large feature init gives the barely trained field density to mesh.
    Object.assign(scene.representation.options, { meshResolution: 24, featureInit: 0.5, isoDensity: 1 });
    scene.cameras.width = scene.cameras.height = 16;
    scene.cameras.viewsPerStep = 2;
    scene.output = { checkpointEvery: 0, turntable: { frames: 3, size: 16, gif: false } };
    const dir = mkdtempSync(join(tmpdir(), 'rl4d-nerf4d-'));
    const file = join(dir, 'nerf-4d.json');
    writeFileSync(file, JSON.stringify(scene));
    const out = join(dir, 'out');
    expect(await run([file, '--out', out])).toBe(0);

    const rows = readMetrics(join(out, 'metrics.jsonl'));
    expect(rows.length).toBe(8);
    // Static stage: the deformation does not train (lr 0); dynamic stage: the canonical field does not.
    expect(rows.every((r) => Number.isFinite(r.reward))).toBe(true);
    const planeTV = rows.map((r) => r.metrics['regulariser.planeTV']);
    expect(planeTV.slice(0, 4).every((v) => v === undefined)).toBe(true);
    expect(planeTV.slice(4).every((v) => typeof v === 'number' && v > 0)).toBe(true);

    const files = ['mesh.glb', 'result.glb', 'frames/mesh_000.glb', 'frames/mesh_001.glb', 'frames/mesh_002.glb'];
    for (const f of files) {
      expect(existsSync(join(out, f)), f).toBe(true);
      const errors = await validatorErrors(readFileSync(join(out, f)));
      expect(errors, `${f}: ${JSON.stringify(errors.slice(0, 3))}`).toEqual([]);
    }
    expect(existsSync(join(out, 'frames/mesh_003.glb'))).toBe(false);
    const first = meshPositions(readFileSync(join(out, 'frames/mesh_000.glb')));
    const last = meshPositions(readFileSync(join(out, 'frames/mesh_002.glb')));
    expect(first.length).toBeGreaterThan(0);
    const differs = first.length !== last.length || first.some((v, i) => v !== last[i]);
    expect(differs).toBe(true);
  }, 600_000);
});
