/**
 * Deformation fields at 100k splats: forward (offsets and deformed splats) and backward
 * (field and canonical gradients) of the HexPlane field (4DGS-like size) and of the trajectory
 * field, each against a plain copy of the splat buffers on the same device (the ratio is the
 * result, since absolute times drift on shared machines). Writes bench/results/4d.json; the
 * 4D training step against the static step is added there by the trainer's benchmark.
 */
import type { Gpu } from '../src/gpu/gpu.ts';
import { Rng } from '../src/train/rng.ts';
import { HexPlaneField } from '../src/scene/deform/hexplane-field.ts';
import { TrajectoryField } from '../src/scene/deform/trajectory-field.ts';
import type { CanonicalSplats, DeformationField, DeformedSplats } from '../src/scene/deform/deformation-field.ts';
import { printTable, timeIt, writeResults, type Row } from './harness.ts';
import { readScene, trainingStepRow } from './train.bench.ts';

function randomBuffer(gpu: Gpu, label: string, n: number, rng: Rng, lo: number, hi: number): GPUBuffer {
  return gpu.upload(label, Float32Array.from({ length: n }, () => lo + (hi - lo) * rng.next()));
}

export async function run(gpu: Gpu, opts: { quick: boolean }): Promise<void> {
  const n = 100_000;
  const iterations = opts.quick ? 3 : 7;
  const rng = new Rng(1);
  const canonical: CanonicalSplats = {
    count: n,
    means: randomBuffer(gpu, 'means', n * 3, rng, -1, 1),
    quats: randomBuffer(gpu, 'quats', n * 4, rng, -1, 1),
    logScales: randomBuffer(gpu, 'scales', n * 3, rng, -4, -2),
  };
  const grads = {
    means: gpu.buffer('g.means', n * 12),
    quats: gpu.buffer('g.quats', n * 16),
    logScales: gpu.buffer('g.scales', n * 12),
  };
  const cot = {
    means: randomBuffer(gpu, 'c.means', n * 3, rng, -1, 1),
    quats: randomBuffer(gpu, 'c.quats', n * 4, rng, -1, 1),
    logScales: randomBuffer(gpu, 'c.scales', n * 3, rng, -1, 1),
  };
  const copies = [gpu.buffer('copy.means', n * 12), gpu.buffer('copy.quats', n * 16), gpu.buffer('copy.scales', n * 12)];
  const baseline = await timeIt(
    () =>
      gpu.run('bench copy', (enc) => {
        enc.copyBufferToBuffer(canonical.means, 0, copies[0], 0, n * 12);
        enc.copyBufferToBuffer(canonical.quats, 0, copies[1], 0, n * 16);
        enc.copyBufferToBuffer(canonical.logScales, 0, copies[2], 0, n * 12);
      }),
    { warmup: 1, iterations },
  );

  const hexplane = await HexPlaneField.create(
    gpu,
    { boundsMin: [-1, -1, -1], boundsMax: [1, 1, 1], resolutions: [32, 64], timeResolution: 12, features: 8, hidden: 32 },
    1,
  );
  // Non-zero output weights so that the backward pass does its full work.
  const state = await hexplane.toState();
  state.mlp.forEach((_, i) => (state.mlp[i] = 0.1 * (rng.next() - 0.5)));
  hexplane.fromState(state);
  const trajectory = await TrajectoryField.create(gpu, n, { degree: 3, frequencies: 4, rotation: true });

  const rows: Row[] = [];
  const fields: [string, DeformationField][] = [
    ['hexplane [32,64]x12, 8 feat, 32 hidden', hexplane],
    ['trajectory deg 3 + 4 freq, rotation', trajectory],
  ];
  for (const [name, field] of fields) {
    const forward = await timeIt(async () => {
      let frame: DeformedSplats | undefined;
      await gpu.run('bench deform fwd', (enc) => {
        frame = field.forward(enc, 0.4, canonical);
      });
      frame?.destroy();
    }, { warmup: 1, iterations });
    const both = await timeIt(async () => {
      let frame: DeformedSplats | undefined;
      await gpu.run('bench deform fwd+bwd', (enc) => {
        frame = field.forward(enc, 0.4, canonical);
        field.backward(enc, frame, canonical, cot, grads);
      });
      frame?.destroy();
    }, { warmup: 1, iterations });
    const backwardMs = Math.max(both.medianMs - forward.medianMs, 0);
    rows.push({
      field: name,
      splats: n,
      forward_ms: forward.medianMs,
      backward_ms: backwardMs,
      forward_backward_ms: both.medianMs,
      copy_baseline_ms: baseline.medianMs,
      forward_vs_copy: forward.medianMs / baseline.medianMs,
    });
  }
  printTable('deformation fields, 100k splats (median ms)', rows);
  const training = await trainingSteps(gpu, opts.quick);
  printTable('a 4D training step against the static step on the same scene (scenes/default-4d.json)', training);
  await writeResults('4d', { adapter: gpu.summary, quick: opts.quick, rows, training });
  hexplane.destroy();
  trajectory.destroy();
  for (const b of [canonical.means, canonical.quats, canonical.logScales, ...Object.values(grads), ...Object.values(cot), ...copies]) b.destroy();
}

/**
 * The default 4D scene trained jointly (canonical splats and trajectory field every step)
 * against the same scene without its deformation field; `xStatic` is the ratio of step times.
 */
async function trainingSteps(gpu: Gpu, quick: boolean): Promise<Row[]> {
  const steps = quick ? 4 : 10;
  const scene = readScene('default-4d');
  const { dynamic, ...still } = scene.representation;
  const staticScene = { ...scene, representation: still };
  const dynamicScene = { ...scene, representation: { ...scene.representation, dynamic: { ...dynamic, schedule: 'joint', staticSteps: 0 } } };
  const fixed = await trainingStepRow(gpu, 'static', staticScene, steps, 1);
  const moving = await trainingStepRow(gpu, '4d (trajectory field, joint)', dynamicScene, steps, 1);
  const rows = [fixed, moving].map(({ xRender: _unused, ...r }) => r);
  rows[0].xStatic = 1;
  rows[1].xStatic = (moving.stepMs as number) / (fixed.stepMs as number);
  return rows;
}
