// The trainer end to end on a tiny scene: outputs, resume equal to an uninterrupted run, and a
// killed run leaving a readable checkpoint.
import { describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readdirSync, statSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { useGpu } from '../helpers/gpu.ts';
import { train, trainedSplats } from '../../src/train/trainer.ts';
import { loadCheckpoint, checkpointPath } from '../../src/train/checkpoint.ts';
import { readMetrics } from '../../src/train/metrics.ts';
import { loadGaussians } from '../../src/io/gaussians-file.ts';
import { tinyScene, rewardGradientOnly } from './fixtures/tiny-scene.ts';

const getGpu = useGpu();
const quiet = { write: () => true };
const tmp = () => mkdtempSync(join(tmpdir(), 'rl4d-train-'));

describe('trainer', () => {
  it('runs a tiny scene end to end and writes result.glb, result.ply, metrics and the turntable', async () => {
    const gpu = getGpu();
    const out = tmp();
    const config = await tinyScene();
    const r = await train(gpu, config, { outDir: out, createAlgorithm: rewardGradientOnly, progress: quiet });
    const rows = readMetrics(join(out, 'metrics.jsonl'));
    expect(rows.map((x) => x.step)).toEqual([0, 1, 2, 3, 4, 5]);
    for (const row of rows) {
      expect(Number.isFinite(row.reward)).toBe(true);
      expect(row.phaseMs.render).toBeGreaterThan(0);
      expect(row.phaseMs.backward).toBeGreaterThan(0);
      expect(row.phaseMs.update).toBeGreaterThan(0);
      expect(row.splats).toBeGreaterThan(0);
    }
    // Densification ran on steps 2, 4 and 6 (growGrad2d tiny: everything visible grows).
    expect(rows.some((x) => (x.metrics['densify.duplicated'] ?? 0) + (x.metrics['densify.split'] ?? 0) > 0)).toBe(true);
    expect(r.splats).not.toBe(48);
    for (const f of ['result.glb', 'result.ply', 'turntable.gif', 'reward.png', 'turntable/frame_000.png', 'turntable/frame_003.png'])
      expect(statSync(join(out, f)).size, f).toBeGreaterThan(50);
    const back = await loadGaussians(join(out, 'result.ply'));
    expect(back.count).toBe(r.splats);
    expect(readdirSync(out).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    r.representation.destroy();
  });

  it('follows reward-weight schedules: the ensemble weight and the logged weight change per step', async () => {
    const gpu = getGpu();
    const weight = { kind: 'linear', from: 2, to: 0.5 };
    const config = await tinyScene({ rewards: { components: [{ name: 'geometry', weight }] }, densify: { strategy: 'none' } });
    const out = tmp();
    const r = await train(gpu, config, { outDir: out, createAlgorithm: rewardGradientOnly, progress: quiet, skipOutputs: true });
    const rows = readMetrics(join(out, 'metrics.jsonl'));
    const logged = rows.map((x) => x.metrics['weight.geometry']);
    expect(logged[0]).toBeCloseTo(2, 6);
    for (let i = 1; i < logged.length; i++) expect(logged[i]).toBeLessThan(logged[i - 1]);
    // The ensemble's breakdown reports the weight it actually used at each step.
    rows.forEach((x, i) => expect(x.metrics['reward/geometry.weight']).toBeCloseTo(logged[i], 6));
    // The trainer's steps hand the splats to the reward: its splat terms are scored.
    rows.forEach((x) => expect(Number.isFinite(x.metrics['reward/geometry.floaters'] + x.metrics['reward/geometry.anisotropy'])).toBe(true));
    r.representation.destroy();
    await expect(tinyScene({ rewards: { components: [{ name: 'geometry', weight: { kind: 'linear', from: 1 } }] } })).rejects.toThrow(/rewards\.components\[0\]\.weight/);
  });

  it('resumed after an interruption, ends where an uninterrupted run ends', async () => {
    const gpu = getGpu();
    const config = await tinyScene();
    const full = tmp();
    const a = await train(gpu, config, { outDir: full, createAlgorithm: rewardGradientOnly, progress: quiet, skipOutputs: true });
    const split = tmp();
    const b1 = await train(gpu, config, { outDir: split, createAlgorithm: rewardGradientOnly, progress: quiet, stopAfter: 3 });
    b1.representation.destroy();
    expect((await loadCheckpoint(split)).step).toBe(3);
    const b = await train(gpu, config, { outDir: split, resume: true, createAlgorithm: rewardGradientOnly, progress: quiet, skipOutputs: true });
    const da = await trainedSplats(a).cloud.toData();
    const db = await trainedSplats(b).cloud.toData();
    expect(db.count).toBe(da.count);
    // Bit-identical where the GPU's gradient sums are ordered the same; the backward pass adds
    // floats with compare-and-swap atomics whose order may vary between runs, so allow 1e-6.
    let maxDiff = 0;
    for (const key of ['means', 'logScales', 'quats', 'opacityLogits', 'sh'] as const)
      for (let i = 0; i < da[key].length; i++) maxDiff = Math.max(maxDiff, Math.abs(da[key][i] - db[key][i]));
    expect(maxDiff).toBeLessThanOrEqual(1e-6);
    const ra = readMetrics(join(full, 'metrics.jsonl'));
    const rb = readMetrics(join(split, 'metrics.jsonl'));
    expect(rb.map((x) => x.step)).toEqual(ra.map((x) => x.step));
    rb.forEach((row, i) => expect(row.reward).toBeCloseTo(ra[i].reward, 5));
    a.representation.destroy();
    b.representation.destroy();
  });

  it('a run killed at any moment leaves a readable checkpoint', async () => {
    const out = tmp();
    const child = spawn(process.execPath, ['--import', 'tsx', 'tests/train/fixtures/run-tiny.ts', out], { stdio: 'ignore' });
    const path = checkpointPath(out);
    const t0 = Date.now();
    while (!existsSync(path) && Date.now() - t0 < 90_000) await new Promise((r) => setTimeout(r, 100));
    expect(existsSync(path)).toBe(true);
    // Let it write a few more checkpoints, then kill it at an arbitrary point.
    await new Promise((r) => setTimeout(r, 1500 + Math.random() * 1500));
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    const ck = await loadCheckpoint(out);
    expect(ck.step).toBeGreaterThanOrEqual(1);
    const data = ck.representation.data as { count: number; means: Float32Array };
    expect(data.means.length).toBe(data.count * 3);
    expect(readdirSync(out).filter((f) => f.endsWith('.tmp')).length).toBeLessThanOrEqual(1);
  });
});
