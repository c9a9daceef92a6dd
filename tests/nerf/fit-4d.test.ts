// 4D fitting: a canonical hash-grid field and a HexPlane deformation trained jointly with the
// shared Adam on views of a moving analytic scene (a red blob translating past a still blue
// one) reproduce held-out (view, time) pairs; rendered at the wrong times they do not, so the
// fit comes from the motion, not from an average.
import { describe, expect, it } from 'vitest';
import { useGpu } from '../helpers/gpu.ts';
import { RadianceField } from '../../src/scene/radiance-field.ts';
import { fieldLayout, type RadianceFieldConfig } from '../../src/scene/nerf/layout.ts';
import { marchSettings, type NerfRenderOptions } from '../../src/render/nerf/renderer.ts';
import { HexPlaneField } from '../../src/scene/deform/hexplane-field.ts';
import { DEFAULT_HEXPLANE } from '../../src/scene/deform/hexplane-layout.ts';
import { Adam } from '../../src/train/adam.ts';
import { orbitCamera, type Camera } from '../../src/math/camera.ts';
import type { Gpu } from '../../src/gpu/gpu.ts';
import { psnr, renderBlobs, type Blob } from './fixtures.ts';

const gpu = useGpu();

/** The red blob moves from x = -0.35 to x = 0.35 over t in [0, 1]; the blue one stays. */
function blobsAt(t: number): Blob[] {
  return [
    { centre: [-0.35 + 0.7 * t, 0.05, 0], scale: 0.2, density: 30, colour: [0.9, 0.2, 0.1] },
    { centre: [0, -0.1, -0.35], scale: 0.2, density: 30, colour: [0.1, 0.4, 0.9] },
  ];
}

const size = 24;
const cfg: RadianceFieldConfig = {
  levels: 5, featuresPerLevel: 2, log2TableSize: 12, baseResolution: 4, finestResolution: 32,
  hiddenWidth: 16, viewDependent: false, bounds: { min: [-1, -1, -1], max: [1, 1, 1] }, seed: 1, occupancyResolution: 16,
};
const cam = (elevation: number, azimuth: number, time: number): Camera => ({
  ...orbitCamera({ elevation, azimuth, radius: 2.6, fovY: 45, width: size, height: size }),
  time,
});
const FRAMES = 6;
// Every view at every training frame time (t = k / 5); held out: new views at new times.
const train = Array.from({ length: 8 * FRAMES }, (_, i) => cam((i % 8) % 2 ? 30 : -5, (i % 8) * 45 + 10 * Math.floor(i / 8), Math.floor(i / 8) / (FRAMES - 1)));
const heldOut = [cam(12, 20, 0.3), cam(25, 160, 0.55), cam(5, 250, 0.9)];
const opts: NerfRenderOptions = { background: [1, 1, 1], stepSize: 0.05, normals: false };
const s = marchSettings(fieldLayout(cfg), opts);
const blobs = (c: Camera) => blobsAt(c.time ?? 0);

async function fit(g: Gpu, steps: number): Promise<{ value: number; shifted: number }> {
  const targets = train.map((c) => renderBlobs(cfg, [c], s, blobs));
  const field = await RadianceField.create(g, cfg, { hash: 3e-2, mlp: 1e-2 });
  const lrPlanes = Number(process.env.NERF4D_LR_PLANES ?? 0.1);
  const lrMlp = Number(process.env.NERF4D_LR_MLP ?? 0.02);
  const def = await HexPlaneField.create(g, { ...DEFAULT_HEXPLANE, boundsMin: [-1, -1, -1], boundsMax: [1, 1, 1], resolutions: [8], timeResolution: FRAMES, features: 4, hidden: 16, lrPlanes, lrMlp }, 3);
  const adam = await Adam.create(g, [...field.params(), ...def.params()]);
  const perStep = 2;
  const o = { ...opts, deformation: def };
  for (let step = 0; step < steps; step++) {
    const pick = Array.from({ length: perStep }, (_, k) => (step * 7 + k * 23) % train.length);
    const frame = await field.render(pick.map((i) => train[i]), o);
    const rgb = await g.readF32(frame.rgb);
    const cot = new Float32Array(rgb.length);
    const n = size * size * 3;
    pick.forEach((v, k) => {
      for (let i = 0; i < n; i++) cot[k * n + i] = (2 * (rgb[k * n + i] - targets[v][i])) / rgb.length;
    });
    const cotBuf = g.upload('fit cotangent', cot);
    await field.backward(frame, { rgb: cotBuf });
    await g.run('adam', (enc) => adam.step(enc, { zeroGrads: true }));
    cotBuf.destroy();
    frame.destroy();
    if (step >= 8 && step % 8 === 0) await field.updateOccupancy({ threshold: 0.1, decay: 0.5, seed: step });
  }
  const truth = renderBlobs(cfg, heldOut, s, blobs);
  const frame = await field.render(heldOut, o);
  const value = psnr(await g.readF32(frame.rgb), truth);
  const wrong = await field.render(heldOut.map((c) => ({ ...c, time: ((c.time ?? 0) + 0.5) % 1 })), o);
  const shifted = psnr(await g.readF32(wrong.rgb), truth);
  for (const x of [frame, wrong, adam, def, field]) x.destroy();
  return { value, shifted };
}

describe('4D NeRF fitting', () => {
  it('recovers held-out (view, time) pairs of a moving scene', async () => {
    const g = gpu();
    const steps = Number(process.env.NERF4D_FIT_STEPS ?? 80);
    const started = Date.now();
    const { value, shifted } = await fit(g, steps);
    const elapsed = (Date.now() - started) / 1000;
    console.log(`4D NeRF fit: ${steps} steps in ${elapsed.toFixed(1)} s, held-out PSNR ${value.toFixed(2)} dB (at times shifted by 0.5: ${shifted.toFixed(2)} dB)`);
    expect(value).toBeGreaterThanOrEqual(24);
    expect(value - shifted).toBeGreaterThanOrEqual(4);
  }, 300_000);
});
