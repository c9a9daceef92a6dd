// GPU gradients of the splat renderer against the reference's analytic VJP (relative L2
// below 1e-2, cosine above 0.999), for every parameter and the densification statistics,
// with the subgroup reduction and with the workgroup-memory fallback, and the RGB-only
// rasterize_bwd variant (no depth or normal cotangent) against the full one.
import { describe, expect, it } from 'vitest';
import { SplatRenderer } from '../../src/render/splat/splat-renderer.ts';
import { GaussianCloud, GaussianGrads } from '../../src/scene/gaussian-cloud.ts';
import type { GaussianData } from '../../src/scene/gaussian-data.ts';
import type { RenderOptions } from '../../src/render/types.ts';
import type { Camera } from '../../src/math/camera.ts';
import { referenceBackward } from '../../src/reference/splat/render.ts';
import { expectClose, expectGradClose } from '../helpers/compare.ts';
import { useGpu } from '../helpers/gpu.ts';
import { cameras, randomArray, smallScene } from './scenes.ts';

const gpu = useGpu();

async function compareGrads(data: GaussianData, cams: Camera[], options: RenderOptions, subgroups: boolean, which = ['rgb', 'alpha', 'depth', 'normal']) {
  const g = gpu();
  const renderer = await SplatRenderer.create(g, { subgroups });
  if (!subgroups) expect(renderer.usesSubgroups).toBe(false);
  const cloud = GaussianCloud.fromData(g, data);
  const grads = GaussianGrads.create(g, data.count, data.shDegree);
  const frame = await renderer.forward(cloud, cams, options);
  const P = frame.pixels;
  const cot = {
    rgb: which.includes('rgb') ? randomArray(P * 3, 1) : undefined,
    alpha: which.includes('alpha') ? randomArray(P, 2) : undefined,
    depth: which.includes('depth') ? randomArray(P, 3).map((x) => x * 0.3) : undefined,
    normal: which.includes('normal') ? randomArray(P * 3, 4) : undefined,
  };
  const bufs = Object.fromEntries(Object.entries(cot).filter(([, v]) => v).map(([k, v]) => [k, g.upload(`cot ${k}`, v!)]));
  // Run twice: the backward adds into the gradients.
  await renderer.backward(frame, bufs, grads);
  await renderer.backward(frame, bufs, grads);
  const ref = referenceBackward(data, cams, cot, options).grads;
  for (const name of ['means', 'logScales', 'quats', 'opacityLogits', 'sh'] as const) {
    const got = await g.readF32(grads[name], ref[name].length);
    expectGradClose(got.map((x) => x / 2), ref[name], name);
  }
  expectGradClose(await g.readF32(grads.gradNorm2d, data.count), ref.gradNorm2d.map((x) => 2 * x), 'gradNorm2d');
  expectGradClose(await g.readF32(grads.absGradNorm2d, data.count), ref.absGradNorm2d.map((x) => 2 * x), 'absGradNorm2d');
  expectClose(await g.readF32(grads.visibleCount, data.count), ref.visibleCount.map((x) => 2 * x), 0, 'visibleCount');
  expectClose(await g.readF32(grads.maxRadius, data.count), ref.maxRadius, 1, 'maxRadius');
  for (const b of Object.values(bufs)) b.destroy();
  frame.destroy();
  grads.destroy();
  cloud.destroy();
  renderer.destroy();
}

describe('splat backward vs reference', () => {
  for (const subgroups of [true, false]) {
    const variant = subgroups ? 'subgroups' : 'workgroup-memory reduction';
    it(`all cotangents, SH degree 3, two views, ${variant}`, async () => {
      await compareGrads(smallScene(40, 3, 21), cameras(2, 37, 30), { background: [0.2, 0.4, 0.6] }, subgroups);
    });

    it(`all cotangents, SH degree 1, antialiased, ${variant}`, async () => {
      await compareGrads(smallScene(40, 1, 22), cameras(2, 33, 35), { antialiased: true }, subgroups);
    });

    it(`rgb + alpha only (the RGB rasterize_bwd variant), SH degree 2, ${variant}`, async () => {
      await compareGrads(smallScene(40, 2, 24), cameras(2, 41, 29), { background: [0.5, 0.1, 0.3] }, subgroups, ['rgb', 'alpha']);
    });

    it(`dense, nearly opaque scene where compositing stops early, SH degree 0, ${variant}`, async () => {
      await compareGrads(smallScene(150, 0, 23, { opacity: 0.85, scale: 0.25 }), cameras(1, 40, 40), { background: [1, 1, 1] }, subgroups);
    });
  }

  it('each cotangent alone (rgb / alpha / depth / normal), SH degree 2', async () => {
    for (const c of ['rgb', 'alpha', 'depth', 'normal']) await compareGrads(smallScene(25, 2, 30), cameras(1, 30, 26), {}, true, [c]);
  });

  it('the RGB-only variant equals the full one given zero depth and normal cotangents', async () => {
    const g = gpu();
    const data = smallScene(60, 1, 25);
    const renderer = await SplatRenderer.create(g);
    const cloud = GaussianCloud.fromData(g, data);
    const frame = await renderer.forward(cloud, cameras(2, 45, 38));
    const P = frame.pixels;
    const rgb = g.upload('cot rgb', randomArray(P * 3, 7));
    const alpha = g.upload('cot alpha', randomArray(P, 8));
    const zeros = g.buffer('cot zero depth', P * 4);
    const results: Float32Array[][] = [];
    for (const cot of [{ rgb, alpha }, { rgb, alpha, depth: zeros }]) {
      const grads = GaussianGrads.create(g, data.count, data.shDegree);
      await renderer.backward(frame, cot, grads);
      results.push(await Promise.all((['means', 'logScales', 'quats', 'opacityLogits', 'sh'] as const).map((k) => g.readF32(grads[k]))));
      grads.destroy();
    }
    const [rgbOnly, full] = results;
    expect(rgbOnly[0].some((x) => x !== 0), 'the means get gradients').toBe(true);
    for (let i = 0; i < full.length; i++) expectClose(rgbOnly[i], full[i], 1e-6 * Math.max(1, ...full[i].map(Math.abs)), `param ${i}`);
    for (const b of [rgb, alpha, zeros]) b.destroy();
    frame.destroy();
    cloud.destroy();
    renderer.destroy();
  });
});
