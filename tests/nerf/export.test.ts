// Exports of a radiance field: GPU field queries against the reference, the density grid,
// the marching-cubes mesh with vertex colours, and splats sampled from the field.
import { describe, expect, it } from 'vitest';
import { useGpu } from '../helpers/gpu.ts';
import { expectClose } from '../helpers/compare.ts';
import { RadianceField, initialFieldParams } from '../../src/scene/radiance-field.ts';
import { evalField } from '../../src/reference/nerf/field.ts';
import { queryField, radianceFieldToGaussians, radianceFieldToMesh, sampleDensityGrid } from '../../src/io/nerf-export.ts';
import { writeMeshGlb } from '../../src/io/mesh-glb.ts';
import { SH_C0 } from '../../src/scene/gaussian-data.ts';
import { blobField, randomArray, smallConfig } from './fixtures.ts';

const gpu = useGpu();

describe('NeRF export', () => {
  it('field queries match the reference (density and view-dependent colour)', async () => {
    const g = gpu();
    const cfg = smallConfig({ featureInit: 1 });
    const { hash, mlp } = initialFieldParams(cfg);
    const field = RadianceField.fromParams(g, cfg, hash, mlp);
    const n = 200;
    const points = randomArray(n * 3, 8, -1, 1);
    const dirs = randomArray(n * 3, 9);
    for (let i = 0; i < n; i++) {
      const l = Math.hypot(dirs[i * 3], dirs[i * 3 + 1], dirs[i * 3 + 2]);
      for (let a = 0; a < 3; a++) dirs[i * 3 + a] /= l;
    }
    const got = await queryField(field, points, dirs);
    const refDensity: number[] = [];
    const refRgb: number[] = [];
    for (let i = 0; i < n; i++) {
      const s = evalField(field.layout, hash, mlp, points.subarray(i * 3, i * 3 + 3), dirs.subarray(i * 3, i * 3 + 3));
      refDensity.push(s.sigma);
      refRgb.push(...s.colour);
    }
    expectClose(got.rgb, refRgb, 1e-4, 'colour');
    for (let i = 0; i < n; i++) expect(Math.abs(got.density[i] - refDensity[i])).toBeLessThan(1e-4 * Math.max(1, refDensity[i]));
    field.destroy();
  });

  it('meshes the density with marching cubes and colours the vertices from the field', async () => {
    const g = gpu();
    const { cfg, hash, mlp } = blobField();
    const field = RadianceField.fromParams(g, cfg, hash, mlp);
    const grid = await sampleDensityGrid(field, 33);
    expect(grid.dims).toEqual([33, 33, 33]);
    // Grid vertex (16, 16, 16) is the box centre, a vertex with hash value 1: density exp(10).
    expect(grid.values[16 + 33 * (16 + 33 * 16)]).toBeCloseTo(Math.exp(10), -1);
    const mesh = await radianceFieldToMesh(field, { resolution: 33, isoDensity: 1 });
    const v = mesh.positions.length / 3;
    expect(v).toBeGreaterThan(20);
    expect(mesh.colors.length).toBe(mesh.positions.length);
    // The blob spans the coarse cells around x, y, z in [-0.25, 0.5]: every vertex lies there.
    for (let i = 0; i < mesh.positions.length; i++) {
      expect(mesh.positions[i]).toBeGreaterThan(-0.26);
      expect(mesh.positions[i]).toBeLessThan(0.51);
    }
    const ref = evalField(field.layout, hash, mlp, mesh.positions.subarray(0, 3), [0, 0, 1]);
    expectClose(mesh.colors.subarray(0, 3), ref.colour, 1e-4, 'vertex colour');
    const glb = writeMeshGlb(mesh, 'nerf');
    expect(new TextDecoder().decode(glb.subarray(0, 4))).toBe('glTF');
    field.destroy();
  });

  it('samples splats where the field is dense, with its colour and opacity', async () => {
    const g = gpu();
    const { cfg, hash, mlp } = blobField();
    const field = RadianceField.fromParams(g, cfg, hash, mlp);
    await field.updateOccupancy({ threshold: 0.5 });
    // The blob's density climbs steeply near its vertices: ask for a low minimum density.
    const splats = await radianceFieldToGaussians(field, { count: 40, seed: 2, oversample: 64, minDensity: 1e-6 });
    expect(splats.count).toBe(40);
    for (let s = 0; s < splats.count; s++) {
      const p = splats.means.subarray(s * 3, s * 3 + 3);
      const ref = evalField(field.layout, hash, mlp, p, [0, -1, 0]);
      expect(ref.sigma).toBeGreaterThanOrEqual(1e-6);
      for (let c = 0; c < 3; c++) expect(Math.abs(splats.sh[s * 3 + c] * SH_C0 + 0.5 - ref.colour[c])).toBeLessThan(1e-4);
      expect(Number.isFinite(splats.opacityLogits[s])).toBe(true);
      expect(splats.quats[s * 4]).toBe(1);
    }
    field.destroy();
  });
});
