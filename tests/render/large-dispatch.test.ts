// A forward whose tile-range dispatch needs more than 65,535 workgroups (so Gpu.dispatch
// splits it over two dimensions): many huge, nearly opaque splats that each touch every tile.
import { describe, expect, it } from 'vitest';
import { SplatRenderer } from '../../src/render/splat/splat-renderer.ts';
import { GaussianCloud } from '../../src/scene/gaussian-cloud.ts';
import { randomGaussiansInSphere } from '../../src/scene/gaussian-init.ts';
import { referenceRender } from '../../src/reference/splat/render.ts';
import { MAX_WORKGROUPS_PER_DIM } from '../../src/gpu/gpu.ts';
import { expectClose } from '../helpers/compare.ts';
import { useGpu } from '../helpers/gpu.ts';
import { cameras } from './scenes.ts';

const gpu = useGpu();

describe('splat forward with a 2D-split dispatch', () => {
  it('17,000 splats covering every tile of four 256x256 views', async () => {
    const g = gpu();
    const data = randomGaussiansInSphere({ count: 17000, radius: 0.8, shDegree: 0, seed: 5, scale: 3, scaleSpread: 0.1, opacity: 0.99 });
    const cams = cameras(4, 256, 256);
    const renderer = await SplatRenderer.create(g);
    const cloud = GaussianCloud.fromData(g, data);
    const frame = await renderer.forward(cloud, cams);
    expect(frame.state.numIsects).toBeGreaterThan(MAX_WORKGROUPS_PER_DIM * 256);
    const ref = referenceRender(data, cams);
    expectClose(await g.readF32(frame.rgb), ref.rgb, 1e-4, 'rgb');
    expectClose(await g.readF32(frame.alpha), ref.alpha, 1e-4, 'alpha');
    frame.destroy();
    cloud.destroy();
    renderer.destroy();
  }, 240_000);
});
