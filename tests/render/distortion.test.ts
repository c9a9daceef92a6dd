// Depth distortion of the splat renderer: the f64 reference's gradient against central
// differences, the GPU forward against the reference (1e-4 absolute), the GPU gradients
// (through grad2d and project_bwd into every parameter and the densification statistics)
// against the reference (relative L2 < 1e-2, cosine > 0.999), and the errors of misuse.
import { describe, expect, it } from 'vitest';
import { SplatRenderer } from '../../src/render/splat/splat-renderer.ts';
import { GaussianCloud, GaussianGrads } from '../../src/scene/gaussian-cloud.ts';
import type { GaussianData } from '../../src/scene/gaussian-data.ts';
import type { RenderOptions } from '../../src/render/types.ts';
import type { Camera } from '../../src/math/camera.ts';
import { referenceDistortion, referenceDistortionBackward } from '../../src/reference/splat/distortion.ts';
import { cosine, expectClose, expectGradClose, relL2 } from '../helpers/compare.ts';
import { useGpu, withBindingLimit } from '../helpers/gpu.ts';
import { cameras, randomArray, smallScene, toF64 } from './scenes.ts';

const gpu = useGpu();
const PARAMS = ['means', 'logScales', 'quats', 'opacityLogits'] as const;
/** A depth range that spreads the test scenes' depths (camera at 3, splats within 0.8 of the centre) over m. */
const WIDE: RenderOptions = { distortionRange: [1, 10] };

function weightedLoss(data: GaussianData, cams: Camera[], cot: ArrayLike<number>, o: RenderOptions): number {
  const d = referenceDistortion(data, cams, o);
  let l = 0;
  for (let i = 0; i < d.length; i++) l += d[i] * cot[i];
  return l;
}

describe('distortion reference vs central differences', () => {
  const check = (seed: number, o: RenderOptions, views: number, count = 6) => {
    const data = toF64(smallScene(count, 0, seed, { opacity: 0.7, scale: 0.22 }));
    const cams = cameras(views, 19, 15, 3);
    const cot = randomArray(views * 19 * 15, seed + 7);
    const { grads } = referenceDistortionBackward(data, cams, cot, o);
    const eps = 1e-6;
    for (const f of PARAMS) {
      const arr = data[f] as unknown as Float64Array;
      const fd = new Float64Array(arr.length);
      for (let i = 0; i < arr.length; i++) {
        const x = arr[i];
        arr[i] = x + eps;
        const lp = weightedLoss(data, cams, cot, o);
        arr[i] = x - eps;
        const lm = weightedLoss(data, cams, cot, o);
        arr[i] = x;
        fd[i] = (lp - lm) / (2 * eps);
      }
      const r = relL2(grads[f], fd), c = cosine(grads[f], fd);
      expect(r, `${f}: rel L2 ${r}`).toBeLessThan(1e-3);
      expect(c, `${f}: cosine ${c}`).toBeGreaterThan(0.9999);
      expect(Math.max(...Array.from(fd, Math.abs)), `${f}: gradient is not trivially zero`).toBeGreaterThan(1e-5);
    }
    // Colour does not enter the distortion.
    expect(grads.sh.every((x) => x === 0)).toBe(true);
  };
  it('one view, wide depth range', () => check(41, WIDE, 1));
  it('two views, default range (2DGS), antialiased', () => check(42, { antialiased: true }, 2));
  it('is zero for one splat per ray and positive where splats overlap in depth', () => {
    const one = toF64(smallScene(1, 0, 43));
    expect(Math.max(...referenceDistortion(one, cameras(1, 19, 15), WIDE))).toBeLessThan(1e-15);
    const many = toF64(smallScene(8, 0, 43, { opacity: 0.7, scale: 0.25 }));
    expect(Math.max(...referenceDistortion(many, cameras(1, 19, 15), WIDE))).toBeGreaterThan(1e-3);
  });
});

describe('GPU distortion vs reference', () => {
  async function run(data: GaussianData, cams: Camera[], o: RenderOptions, subgroups = true) {
    const g = gpu();
    const renderer = await SplatRenderer.create(g, { subgroups });
    const cloud = GaussianCloud.fromData(g, data);
    const grads = GaussianGrads.create(g, data.count, data.shDegree);
    const frame = await renderer.forward(cloud, cams, { ...o, distortion: true });
    const P = frame.pixels;
    expect(frame.distortion, 'frame.distortion').toBeDefined();
    const got = await g.readF32(frame.distortion!, P);
    const ref = referenceDistortion(data, cams, o);
    const cot = randomArray(P, 5);
    const cotBuf = g.upload('cot distortion', cot);
    // Twice: the backward adds into the gradients.
    await renderer.backward(frame, { distortion: cotBuf }, grads);
    await renderer.backward(frame, { distortion: cotBuf }, grads);
    const refGrads = referenceDistortionBackward(data, cams, cot, o).grads;
    const chunks = frame.state.chunks.length;
    const gpuGrads: Record<string, Float32Array> = {};
    for (const name of [...PARAMS, 'sh', 'gradNorm2d', 'absGradNorm2d'] as const) gpuGrads[name] = (await g.readF32(grads[name], refGrads[name].length)).map((x) => x / 2);
    cotBuf.destroy();
    frame.destroy();
    grads.destroy();
    cloud.destroy();
    renderer.destroy();
    return { got, ref, gpuGrads, refGrads, chunks };
  }

  it('forward and gradients, two views, odd size, wide range', async () => {
    const data = smallScene(40, 1, 51, { opacity: 0.7, scale: 0.2 });
    const { got, ref, gpuGrads, refGrads } = await run(data, cameras(2, 37, 29), WIDE);
    expect(Math.max(...ref), 'scene has distortion').toBeGreaterThan(1e-3);
    expectClose(got, ref, 1e-4, 'distortion');
    for (const name of PARAMS) expectGradClose(gpuGrads[name], refGrads[name], name);
    expect(gpuGrads.sh.every((x) => x === 0), 'sh gradient is zero').toBe(true);
    expectGradClose(gpuGrads.gradNorm2d, refGrads.gradNorm2d, 'gradNorm2d');
    expectGradClose(gpuGrads.absGradNorm2d, refGrads.absGradNorm2d, 'absGradNorm2d');
  });

  it('dense, nearly opaque scene that stops early, three views, default range, antialiased, workgroup-memory reduction', async () => {
    const data = smallScene(120, 0, 52, { opacity: 0.9, scale: 0.25 });
    const o: RenderOptions = { antialiased: true };
    const { got, ref, gpuGrads, refGrads } = await run(data, cameras(3, 31, 33), o, false);
    const peak = Math.max(...ref);
    expect(peak).toBeGreaterThan(1e-5);
    // Default-range values are small; hold them to 1e-4 absolute and 1% of the peak.
    expectClose(got, ref, Math.min(1e-4, 0.01 * peak), 'distortion');
    for (const name of PARAMS) expectGradClose(gpuGrads[name], refGrads[name], name);
  });

  it('views rendered in chunks (a lowered binding limit) give the same distortion and gradients', async () => {
    const data = smallScene(300, 0, 54, { opacity: 0.5, scale: 0.12 });
    const cams = cameras(3, 23, 21);
    // 300 splats x 64 bytes per view: a 48,000-byte binding limit holds two views per chunk
    // and still the renderer's per-pixel buffers (3 x 23 x 21 x 32 bytes of cotangents).
    const chunked = await withBindingLimit('48000', () => run(data, cams, WIDE));
    expect(chunked.chunks).toBe(2);
    expectClose(chunked.got, chunked.ref, 1e-4, 'distortion (chunked)');
    for (const name of PARAMS) expectGradClose(chunked.gpuGrads[name], chunked.refGrads[name], `${name} (chunked)`);
  });

  it('a plain render has no distortion; a distortion cotangent needs one; a bad range is refused', async () => {
    const g = gpu();
    const renderer = await SplatRenderer.create(g);
    const data = smallScene(10, 0, 53);
    const cloud = GaussianCloud.fromData(g, data);
    const grads = GaussianGrads.create(g, data.count, data.shDegree);
    const cams = cameras(1, 20, 20);
    const frame = await renderer.forward(cloud, cams);
    expect(frame.distortion).toBeUndefined();
    const cot = g.upload('cot', new Float32Array(400).fill(1));
    await expect(renderer.backward(frame, { distortion: cot }, grads)).rejects.toThrow(/distortion.*\{ distortion: true \}/);
    await expect(renderer.forward(cloud, cams, { distortion: true, distortionRange: [5, 1] })).rejects.toThrow(/distortionRange/);
    const withD = await renderer.forward(cloud, cams, { distortion: true });
    const short = g.upload('short cot', new Float32Array(10));
    await expect(renderer.backward(withD, { distortion: short }, grads)).rejects.toThrow(/distortion cotangent 'short cot'/);
    for (const b of [cot, short]) b.destroy();
    withD.destroy();
    frame.destroy();
    grads.destroy();
    cloud.destroy();
    renderer.destroy();
  });
});
