// GaussianCloud upload/readback, deterministic init, and bad input: NaN parameters render
// without crashing (those splats are culled), wrong sizes and over-limit buffers are named.
import { describe, expect, it } from 'vitest';
import { GaussianCloud, GaussianGrads } from '../../src/scene/gaussian-cloud.ts';
import { randomGaussiansInSphere } from '../../src/scene/gaussian-init.ts';
import { SplatRenderer } from '../../src/render/splat/splat-renderer.ts';
import { referenceRender } from '../../src/reference/splat/render.ts';
import { InputError } from '../../src/errors.ts';
import { expectClose } from '../helpers/compare.ts';
import { useGpu } from '../helpers/gpu.ts';
import { cameras, smallScene } from './scenes.ts';

const gpu = useGpu();

describe('GaussianCloud and init', () => {
  it('round-trips raw parameters through the GPU', async () => {
    const data = smallScene(33, 2, 3);
    const cloud = GaussianCloud.fromData(gpu(), data);
    const back = await cloud.toData();
    expect(back.count).toBe(33);
    expect(back.shDegree).toBe(2);
    for (const k of ['means', 'logScales', 'quats', 'opacityLogits', 'sh'] as const) expect(Array.from(back[k])).toEqual(Array.from(data[k]));
    cloud.destroy();
  });

  it('initialises deterministically from the seed, inside the sphere', () => {
    const a = randomGaussiansInSphere({ count: 50, radius: 2, shDegree: 1, seed: 9, center: [1, 0, 0] });
    const b = randomGaussiansInSphere({ count: 50, radius: 2, shDegree: 1, seed: 9, center: [1, 0, 0] });
    const c = randomGaussiansInSphere({ count: 50, radius: 2, shDegree: 1, seed: 10, center: [1, 0, 0] });
    expect(Array.from(a.means)).toEqual(Array.from(b.means));
    expect(Array.from(a.means)).not.toEqual(Array.from(c.means));
    for (let i = 0; i < 50; i++) expect(Math.hypot(a.means[i * 3] - 1, a.means[i * 3 + 1], a.means[i * 3 + 2])).toBeLessThanOrEqual(2 + 1e-6);
  });

  it('rejects arrays of the wrong length and degrees outside 0..3', () => {
    const data = smallScene(4, 0, 1);
    expect(() => GaussianCloud.fromData(gpu(), { ...data, quats: new Float32Array(3) })).toThrow(/'quats' holds 3 floats/);
    expect(() => GaussianGrads.create(gpu(), 4, 4)).toThrow(InputError);
  });

  it('names the buffer and what to reduce when a batch is over the device limit', async () => {
    const renderer = await SplatRenderer.create(gpu());
    const cloud = GaussianCloud.fromData(gpu(), smallScene(4, 0, 1));
    const side = Math.ceil(Math.sqrt(gpu().limits.maxStorageBufferBindingSize / 12)) + 16;
    await expect(renderer.forward(cloud, cameras(1, side, side))).rejects.toThrow(/image rgb.*reduce/);
    cloud.destroy();
    renderer.destroy();
  });

  it('renders NaN parameters without crashing; those splats are culled', async () => {
    const data = smallScene(20, 1, 4);
    data.means[0] = NaN;
    data.quats[5 * 4 + 2] = NaN;
    data.logScales[9 * 3] = NaN;
    data.opacityLogits[12] = NaN;
    data.sh[15 * 12] = NaN;
    const renderer = await SplatRenderer.create(gpu());
    const cloud = GaussianCloud.fromData(gpu(), data);
    const cams = cameras(1, 24, 24);
    const frame = await renderer.forward(cloud, cams);
    const visible = await gpu().readU32(frame.visible, 20);
    for (const i of [0, 5, 9, 12]) expect(visible[i], `splat ${i}`).toBe(0);
    // Splat 15's NaN colour may reach its pixels' rgb; coverage matches the reference.
    const rgb = await gpu().readF32(frame.rgb);
    const alpha = await gpu().readF32(frame.alpha);
    expectClose(alpha, referenceRender(data, cams).alpha, 1e-4, 'alpha');
    expect(rgb.some((x) => !Number.isNaN(x))).toBe(true);
    frame.destroy();
    cloud.destroy();
    renderer.destroy();
  });
});
