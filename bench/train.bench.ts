/**
 * Trainer throughput: steps per second of the default job (scenes/default.json) and of each
 * algorithm on that same scene (its cloud, cameras and rewards; grpo and dpo with the options
 * of scenes/grpo.json and scenes/dpo.json, sds and reward-weighted-sds with the procedural
 * exemplar prior of scenes/sds.json), and the share of each step spent in render, reward,
 * backward, update and densify (the trainer's PhaseTimer; "other" is the algorithm's own
 * bookkeeping: readbacks, the CPU prior, candidate batches). The first step of each run
 * (pipeline builds) is left out. The baseline, timed in the same run, is one forward render of
 * the default scene's views: `xRender` is a step's time in renders.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Gpu } from '../src/gpu/gpu.ts';
import { randomGaussiansInSphere } from '../src/scene/gaussian-init.ts';
import { CameraSampler } from '../src/train/camera-sampler.ts';
import { parseSceneConfig } from '../src/train/config.ts';
import { median, printTable, timeIt, writeResults, type Row } from './harness.ts';
import { PHASES, readMetrics } from '../src/train/metrics.ts';
import { SplatRepresentation } from '../src/train/splat-representation.ts';
import { train } from '../src/train/trainer.ts';
import { registryValidators } from '../src/train/validators.ts';

const SCENES = join(dirname(fileURLToPath(import.meta.url)), '..', 'scenes');
const readScene = (name: string) => JSON.parse(readFileSync(join(SCENES, `${name}.json`), 'utf8')) as Record<string, any>;

/** The default scene with another algorithm (and the prior it needs). */
function jobs(): { job: string; scene: Record<string, any> }[] {
  const base = readScene('default');
  const sds = readScene('sds');
  const rwsds = readScene('reward-weighted-sds');
  const withAlgorithm = (algorithm: unknown, extra: Record<string, unknown> = {}) => ({ ...base, algorithm, ...extra });
  const sdsExtra = { prior: sds.prior, schedule: { ...base.schedule, timestep: sds.schedule.timestep } };
  return [
    { job: 'default (reward-gradient)', scene: base },
    { job: 'grpo', scene: withAlgorithm(readScene('grpo').algorithm) },
    { job: 'dpo', scene: withAlgorithm(readScene('dpo').algorithm) },
    { job: 'sds', scene: withAlgorithm(sds.algorithm, sdsExtra) },
    { job: 'reward-weighted-sds', scene: withAlgorithm(rwsds.algorithm, sdsExtra) },
  ];
}

export async function run(gpu: Gpu, opts: { quick: boolean }): Promise<void> {
  const steps = opts.quick ? 4 : 12;
  const validators = registryValidators();

  // Baseline: one forward render of the default scene's batch of views.
  const base = await parseSceneConfig(readScene('default'), validators, { file: 'scenes/default.json', baseDir: SCENES });
  const init = base.representation.init;
  const rep = await SplatRepresentation.create(
    gpu,
    randomGaussiansInSphere({ count: init.count, radius: init.radius, shDegree: init.shDegree, seed: base.seed, opacity: init.opacity, scale: init.scale }),
    {},
  );
  const cameras = new CameraSampler(base.cameras, base.seed).sample(0).cameras;
  const render = await timeIt(() => rep.render(cameras, { background: base.representation.background }), { warmup: 1, iterations: opts.quick ? 3 : 7 });
  rep.destroy();

  const rows: Row[] = [];
  for (const { job, scene } of jobs()) rows.push(await trainingStepRow(gpu, job, scene, steps, render.medianMs));
  printTable(`trainer steps (median of ${steps - 1} steps after the first; baseline render ${render.medianMs.toFixed(1)} ms)`, rows);
  await writeResults('train', { adapter: gpu.summary, quick: opts.quick, steps, baselineRenderMs: render.medianMs, rows });
}

/**
 * Trains `scene` for `steps` steps (no outputs) and returns the median step time after the
 * first step, steps per second, the step in units of `baselineMs`, and each phase's share.
 */
export async function trainingStepRow(gpu: Gpu, job: string, scene: Record<string, any>, steps: number, baselineMs: number): Promise<Row> {
  const config = await parseSceneConfig(scene, registryValidators(), { file: `${job}.json`, baseDir: SCENES, overrides: { steps } });
  const out = mkdtempSync(join(tmpdir(), 'rl4d-bench-train-'));
  try {
    const result = await train(gpu, config, { outDir: out, skipOutputs: true, progress: { write: () => true } });
    result.representation.destroy();
    const records = readMetrics(join(out, 'metrics.jsonl')).slice(1);
    const stepMs = median(records.map((r) => r.stepMs));
    const total = records.reduce((a, r) => a + r.stepMs, 0);
    const share = Object.fromEntries(PHASES.map((p) => [`${p}%`, (100 * records.reduce((a, r) => a + r.phaseMs[p], 0)) / total]));
    const phased = PHASES.reduce((a, p) => a + (share[`${p}%`] as number), 0);
    return {
      job,
      splats: config.representation.init.count,
      views: config.cameras.viewsPerStep,
      px: config.cameras.width,
      stepMs,
      stepsPerSec: 1000 / stepMs,
      xRender: stepMs / baselineMs,
      ...share,
      'other%': 100 - phased,
    };
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

export { readScene };
