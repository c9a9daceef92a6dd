// Batches over the binding limit: with RL4D_BUFFER_LIMIT lowered, a small scene's
// [views][splats] buffers no longer fit one binding (the renderer splits the views into
// chunks) and its SH buffers are bound in two ranges. Images, radii and gradients must
// equal those of the plain path; what cannot fit gets the clear limit error.
import { afterEach, describe, expect, it } from 'vitest';
import { SplatRenderer } from '../../src/render/splat/splat-renderer.ts';
import { GaussianCloud, GaussianGrads } from '../../src/scene/gaussian-cloud.ts';
import type { GaussianData } from '../../src/scene/gaussian-data.ts';
import type { Camera } from '../../src/math/camera.ts';
import { InputError } from '../../src/errors.ts';
import { expectClose, expectGradClose } from '../helpers/compare.ts';
import { useGpu } from '../helpers/gpu.ts';
import { cameras, randomArray, smallScene } from './scenes.ts';

const gpu = useGpu();
const LIMIT = 'RL4D_BUFFER_LIMIT';
afterEach(() => {
  delete process.env[LIMIT];
});

async function renderAll(data: GaussianData, cams: Camera[]) {
  const g = gpu();
  const renderer = await SplatRenderer.create(g);
  const cloud = GaussianCloud.fromData(g, data);
  const grads = GaussianGrads.create(g, data.count, data.shDegree);
  const frame = await renderer.forward(cloud, cams, { background: [0.1, 0.2, 0.3] });
  const P = frame.pixels;
  const cot = {
    rgb: g.upload('cot rgb', randomArray(P * 3, 11)),
    alpha: g.upload('cot alpha', randomArray(P, 12)),
    depth: g.upload('cot depth', randomArray(P, 13).map((x) => 0.3 * x)),
    normal: g.upload('cot normal', randomArray(P * 3, 14)),
  };
  await renderer.backward(frame, cot, grads);
  const out = {
    chunks: frame.state.chunks.length,
    shSplit: frame.state.shSplit,
    numIsects: frame.state.numIsects,
    images: await Promise.all([frame.rgb, frame.alpha, frame.depth, frame.normal].map((b) => g.readF32(b, b.size / 4))),
    radii: await g.readU32(frame.radii, cams.length * data.count),
    visible: await g.readU32(frame.visible, cams.length * data.count),
    grads: await Promise.all((['means', 'logScales', 'quats', 'opacityLogits', 'sh', 'gradNorm2d', 'visibleCount', 'maxRadius'] as const).map((k) => g.readF32(grads[k]))),
  };
  for (const b of Object.values(cot)) b.destroy();
  frame.destroy();
  grads.destroy();
  cloud.destroy();
  renderer.destroy();
  return out;
}

describe('splat renderer over the binding limit', () => {
  // 400 splats of SH degree 3: 25,600 bytes of projected splats per view and 76,800 of SH.
  const data = smallScene(400, 3, 41);
  const cams = cameras(3, 32, 19);

  it('view chunks and a two-range SH binding give the plain result', async () => {
    const plain = await renderAll(data, cams);
    expect(plain.chunks).toBe(1);
    expect(plain.shSplit).toBe(400);
    // Bindings up to 60,000 bytes: two views per chunk, the SH buffers in two ranges.
    process.env[LIMIT] = '60000';
    const split = await renderAll(data, cams);
    expect(split.chunks).toBe(2);
    expect(split.shSplit).toBeGreaterThan(0);
    expect(split.shSplit).toBeLessThan(400);
    expect(split.numIsects).toBe(plain.numIsects);
    expect(Array.from(split.radii)).toEqual(Array.from(plain.radii));
    expect(Array.from(split.visible)).toEqual(Array.from(plain.visible));
    let lit = 0;
    for (const a of plain.images[1]) if (a > 0.05) lit++;
    expect(lit, 'the scene covers some pixels').toBeGreaterThan(plain.images[1].length * 0.1);
    plain.images.forEach((im, i) => expectClose(split.images[i], im, 1e-6, `image ${i}`));
    plain.grads.forEach((gr, i) => {
      expect(gr.some((x) => x !== 0), `gradient ${i} is not all zero`).toBe(true);
      if (i >= 6) expectClose(split.grads[i], gr, 0, `statistic ${i}`);
      else expectGradClose(split.grads[i], gr, `gradient ${i}`);
    });
  });

  it('one view over the limit, or SH over the buffer limit, is refused naming the limit', async () => {
    const g = gpu();
    const renderer = await SplatRenderer.create(g);
    const cloud = GaussianCloud.fromData(g, data);
    process.env[LIMIT] = '20000'; // under one view's 25,600 bytes of projected splats
    await expect(renderer.forward(cloud, cams.slice(0, 1))).rejects.toThrow(/splat projected \(one view\).*maxStorageBufferBindingSize \(20000 bytes\)/);
    process.env[LIMIT] = '30000'; // SH: 76,800 bytes, over the 60,000-byte buffer limit
    expect(() => GaussianCloud.fromData(g, data)).toThrow(InputError);
    expect(() => GaussianCloud.fromData(g, data)).toThrow(/splat sh.*maxBufferSize \(60000 bytes\)/);
    cloud.destroy();
    renderer.destroy();
  });
});
