// Fitting sanity check: Adam drives a HexPlane field (and a trajectory field) so that the
// deformed means follow a known procedural motion (points turning about +Y while bouncing),
// measured at held-out times. The building block of the 4D rendering fit.
import { describe, expect, it } from 'vitest';
import type { Gpu } from '../../src/gpu/gpu.ts';
import { Adam } from '../../src/train/adam.ts';
import { Rng } from '../../src/train/rng.ts';
import { HexPlaneField } from '../../src/scene/deform/hexplane-field.ts';
import { TrajectoryField } from '../../src/scene/deform/trajectory-field.ts';
import type { CanonicalSplats, DeformationField, DeformedSplats } from '../../src/scene/deform/deformation-field.ts';
import { useGpu } from '../helpers/gpu.ts';
import { randomArray } from './fixtures.ts';

const gpu = useGpu();
const N = 64;

function target(p0: Float32Array, t: number): Float64Array {
  const a = 1.2 * t;
  const lift = 0.4 * Math.abs(Math.sin(Math.PI * 1.5 * t));
  const out = new Float64Array(p0.length);
  for (let i = 0; i < p0.length / 3; i++) {
    const [x, y, z] = [p0[3 * i], p0[3 * i + 1], p0[3 * i + 2]];
    out.set([Math.cos(a) * x + Math.sin(a) * z, y + lift, -Math.sin(a) * x + Math.cos(a) * z], 3 * i);
  }
  return out;
}

/** RMS distance between deformed means and the target at each time. */
async function rmsAt(g: Gpu, field: DeformationField, canonical: CanonicalSplats, p0: Float32Array, times: number[]): Promise<number[]> {
  const out: number[] = [];
  for (const t of times) {
    const enc = g.device.createCommandEncoder();
    const frame = field.forward(enc, t, canonical);
    await g.submit('eval', enc);
    const m = await g.readF32(frame.means);
    const want = target(p0, t);
    out.push(Math.sqrt(m.reduce((s, v, i) => s + (v - want[i]) ** 2, 0) / N));
    frame.destroy();
  }
  return out;
}

async function fit(g: Gpu, field: DeformationField, canonical: CanonicalSplats, p0: Float32Array, steps: number): Promise<void> {
  const adam = await Adam.create(g, field.params());
  // Fresh random times every step, as the trainer samples them; held-out times are never drawn exactly.
  const rng = new Rng(2);
  const batch = 6;
  const cot = Array.from({ length: batch }, () => g.buffer('cotangent', N * 12));
  for (let step = 0; step < steps; step++) {
    const train = Array.from({ length: batch }, () => rng.next());
    const enc = g.device.createCommandEncoder();
    const frames: DeformedSplats[] = train.map((t) => field.forward(enc, t, canonical));
    await g.submit('fit fwd', enc);
    const means = await Promise.all(frames.map((f) => g.readF32(f.means)));
    means.forEach((m, k) => {
      const want = target(p0, train[k]);
      g.write(cot[k], Float32Array.from(m, (v, i) => (2 * (v - want[i])) / (N * train.length)));
    });
    const enc2 = g.device.createCommandEncoder();
    field.zeroGrads(enc2);
    frames.forEach((f, k) => field.backward(enc2, f, canonical, { means: cot[k] }, {}));
    adam.step(enc2);
    await g.submit('fit bwd', enc2);
    frames.forEach((f) => f.destroy());
  }
  cot.forEach((b) => b.destroy());
  adam.destroy();
}

describe('deformation fitting', () => {
  const p0 = randomArray(new Rng(1), N * 3, -0.8, 0.8);
  const heldOut = [0.1, 0.5, 0.9];
  const motion = heldOut.map((t) => {
    const w = target(p0, t);
    return Math.sqrt(w.reduce((s, v, i) => s + (v - p0[i]) ** 2, 0) / N);
  });

  it('a HexPlane field learns a turning, bouncing motion to a small fraction of its size', async () => {
    const g = gpu();
    const canonical: CanonicalSplats = { count: N, means: g.upload('m', p0), quats: g.buffer('q', N * 16), logScales: g.buffer('s', N * 12) };
    const field = await HexPlaneField.create(
      g,
      { boundsMin: [-1, -1, -1], boundsMax: [1, 1, 1], resolutions: [8, 16], timeResolution: 8, features: 6, hidden: 32, lrPlanes: 0.03, lrMlp: 0.01 },
      3,
    );
    const before = await rmsAt(g, field, canonical, p0, heldOut);
    await fit(g, field, canonical, p0, 500);
    const after = await rmsAt(g, field, canonical, p0, heldOut);
    console.log(`hexplane fit: motion rms ${motion.map((v) => v.toFixed(3))}, before ${before.map((v) => v.toFixed(3))}, after ${after.map((v) => v.toFixed(4))}`);
    after.forEach((e, k) => expect(e, `t=${heldOut[k]}`).toBeLessThan(0.1 * motion[k]));
    field.destroy();
  });

  it('a trajectory field learns the same motion', async () => {
    const g = gpu();
    const canonical: CanonicalSplats = { count: N, means: g.upload('m', p0), quats: g.buffer('q', N * 16), logScales: g.buffer('s', N * 12) };
    const field = await TrajectoryField.create(g, N, { degree: 3, frequencies: 2, lr: 0.05 });
    await fit(g, field, canonical, p0, 500);
    const after = await rmsAt(g, field, canonical, p0, heldOut);
    console.log(`trajectory fit: motion rms ${motion.map((v) => v.toFixed(3))}, after ${after.map((v) => v.toFixed(4))}`);
    // The bounce's kink is outside a degree-3 + 2-frequency basis, so the bar is 8% of the mean motion.
    const meanMotion = motion.reduce((a, b) => a + b) / motion.length;
    after.forEach((e, k) => expect(e, `t=${heldOut[k]}`).toBeLessThan(0.08 * meanMotion));
    field.destroy();
  });
});
