// The occupancy grid: the kernel against its reference, and skipping empty cells leaves
// the image unchanged where the density is (numerically) zero.
import { describe, expect, it } from 'vitest';
import { useGpu } from '../helpers/gpu.ts';
import { expectClose } from '../helpers/compare.ts';
import { RadianceField, initialFieldParams } from '../../src/scene/radiance-field.ts';
import { occupancyUpdateReference } from '../../src/reference/nerf/render.ts';
import { blobField, smallConfig, views } from './fixtures.ts';

const gpu = useGpu();

describe('NeRF occupancy grid', () => {
  it('update matches the reference (corner and jittered samples, decayed max, threshold)', async () => {
    const g = gpu();
    const cfg = smallConfig({ occupancyResolution: 6, featureInit: 1 });
    const { hash, mlp } = initialFieldParams(cfg);
    const field = RadianceField.fromParams(g, cfg, hash, mlp);
    const ref = { layout: field.layout, hash, mlp };
    // Threshold between the two middle reference densities, so that half the cells pass.
    const probe = occupancyUpdateReference(ref, 6, new Float64Array(216), { seed: 3, decay: 0.5, threshold: 0 });
    const sorted = [...probe.density].sort((a, b) => a - b);
    const opts = { seed: 3, decay: 0.5, threshold: Math.sqrt(sorted[107] * sorted[108]) };
    await field.updateOccupancy(opts);
    const first = occupancyUpdateReference(ref, 6, new Float64Array(216), opts);
    const density = await g.readF32(field.occupancy.density, 216);
    for (let i = 0; i < 216; i++) expect(Math.abs(density[i] - first.density[i])).toBeLessThan(1e-4 * Math.max(1, first.density[i]));
    const flags = await field.occupancy.readFlags();
    let agree = 0;
    for (let i = 0; i < 216; i++) agree += flags[i] === first.flags[i] ? 1 : 0;
    expect(agree).toBe(216);
    // Not all one way, so the threshold is exercised.
    const occupied = flags.reduce((a, b) => a + b, 0);
    expect(occupied).toBeGreaterThan(0);
    expect(occupied).toBeLessThan(216);
    // A second update decays the running value and takes the max with new samples.
    await field.updateOccupancy({ ...opts, seed: 4 });
    const second = occupancyUpdateReference(ref, 6, first.density, { ...opts, seed: 4 });
    const density2 = await g.readF32(field.occupancy.density, 216);
    for (let i = 0; i < 216; i++) expect(Math.abs(density2[i] - second.density[i])).toBeLessThan(1e-4 * Math.max(1, second.density[i]));
    field.destroy();
  });

  it('skipping empty cells does not change the image where the density is zero', async () => {
    const g = gpu();
    const { cfg, hash, mlp } = blobField();
    const field = RadianceField.fromParams(g, cfg, hash, mlp);
    const cams = views(2, 16, 2.5);
    const opts = { background: [0.1, 0.1, 0.1] as [number, number, number], stepSize: 0.02 };
    const full = await field.render(cams, { ...opts, useOccupancy: false });
    await field.updateOccupancy({ threshold: 0.01 });
    const fraction = await field.occupancy.occupiedFraction();
    expect(fraction).toBeGreaterThan(0);
    expect(fraction).toBeLessThan(0.15);
    const skipped = await field.render(cams, opts);
    const alpha = await g.readF32(full.alpha);
    expect(Math.max(...alpha)).toBeGreaterThan(0.9); // the blob is seen
    expectClose(await g.readF32(skipped.rgb), await g.readF32(full.rgb), 1e-5, 'rgb with and without skipping');
    expectClose(await g.readF32(skipped.alpha), alpha, 1e-5, 'alpha with and without skipping');
    expectClose(await g.readF32(skipped.depth), await g.readF32(full.depth), 1e-5, 'depth with and without skipping');
    // The grid is really consulted: an all-empty grid renders nothing.
    field.occupancy.fill(false);
    const none = await field.render(cams, opts);
    expect(Math.max(...(await g.readF32(none.alpha)))).toBe(0);
    for (const f of [full, skipped, none]) f.destroy();
    field.destroy();
  });
});
