/**
 * Exports of a radiance field: field queries at arbitrary points (GPU), a density grid for
 * marching cubes, a vertex-coloured mesh, and Gaussian splats sampled from the field.
 * Field colours are treated as display colours, like splat colours and rendered images.
 * A 4D field's frame at time t is the canonical field seen through the backward warp: every
 * world point x is looked up at x + d(x, t) (warpPoints), as the renderer does.
 */
import { InputError } from '../errors.ts';
import type { Gpu } from '../gpu/gpu.ts';
import type { RadianceField } from '../scene/radiance-field.ts';
import type { HexPlaneField } from '../scene/deform/hexplane-field.ts';
import { emptyGaussians, SH_C0, type GaussianData } from '../scene/gaussian-data.ts';
import { marchingCubes, type ScalarGrid } from './marching-cubes.ts';
import type { ColoredMesh } from './splat-mesh.ts';
import { writeMeshGlb } from './mesh-glb.ts';
import { GltfBuilder } from './gltf-builder.ts';
import { Rng } from '../train/rng.ts';

/** Points per query dispatch (keeps every buffer far below the binding limits). */
const QUERY_BATCH = 1 << 18;

/** Density and colour at each point (xyz), seen along `dirs` (default +z; matters only for view-dependent fields). */
export async function queryField(field: RadianceField, points: Float32Array, dirs?: Float32Array): Promise<{ density: Float32Array; rgb: Float32Array }> {
  const g = field.gpu;
  const n = points.length / 3;
  if (!Number.isInteger(n)) throw new InputError(`nerf query: points must hold xyz triples, got ${points.length} numbers.`);
  if (dirs && dirs.length !== points.length) throw new InputError(`nerf query: ${dirs.length / 3} directions for ${n} points.`);
  const k = await g.kernel({ file: 'nerf/query.wgsl', entry: 'field_query' });
  const density = new Float32Array(n);
  const rgb = new Float32Array(n * 3);
  for (let start = 0; start < n; start += QUERY_BATCH) {
    const m = Math.min(QUERY_BATCH, n - start);
    const pts = g.upload('nerf query points', points.subarray(start * 3, (start + m) * 3));
    const d = dirs ? dirs.subarray(start * 3, (start + m) * 3) : new Float32Array(m * 3).map((_, i) => (i % 3 === 2 ? 1 : 0));
    const dirBuf = g.upload('nerf query dirs', d);
    const out = g.buffer('nerf query out', m * 16);
    const count = g.uniform('nerf query count', new Uint32Array([m]));
    await g.run('nerf query', (enc) => g.dispatch(enc, k, [field.uniform, count, field.hash, field.mlp, pts, dirBuf, out], Math.ceil(m / 64)));
    const res = await g.readF32(out, m * 4);
    for (let i = 0; i < m; i++) {
      density[start + i] = res[i * 4];
      for (let c = 0; c < 3; c++) rgb[(start + i) * 3 + c] = res[i * 4 + 1 + c];
    }
    for (const b of [pts, dirBuf, out, count]) b.destroy();
  }
  return { density, rgb };
}

/** Points moved to the canonical field at `time`: x + d(x, time), d the HexPlane position head (GPU). */
export async function warpPoints(g: Gpu, def: HexPlaneField, points: Float32Array, time: number): Promise<Float32Array> {
  const n = points.length / 3;
  const out = Float32Array.from(points);
  const scratch = def.pointScratch(Math.min(QUERY_BATCH, Math.max(n, 1)));
  for (let start = 0; start < n; start += QUERY_BATCH) {
    const m = Math.min(QUERY_BATCH, n - start);
    const pts = g.upload('nerf warp points', points.subarray(start * 3, (start + m) * 3));
    let u: GPUBuffer | undefined;
    await g.run('nerf warp', (enc) => {
      u = def.evaluatePoints(enc, time, pts, m, scratch);
    });
    const off = await g.readF32(scratch.offsets, m * 14);
    for (let i = 0; i < m; i++) for (let a = 0; a < 3; a++) out[(start + i) * 3 + a] += off[i * 14 + a];
    pts.destroy();
    u?.destroy();
  }
  scratch.destroy();
  return out;
}

/** Maps world points to where the field is looked up (4D: warpPoints at one time). */
export type PointWarp = (points: Float32Array) => Promise<Float32Array>;

/** The density on a regular grid of `resolution` vertices along the box's longest side (looked up through `warp` when given). */
export async function sampleDensityGrid(field: RadianceField, resolution = 128, warp?: PointWarp): Promise<ScalarGrid> {
  if (!Number.isInteger(resolution) || resolution < 2 || resolution > 512)
    throw new InputError(`nerf density grid: resolution must be an integer in [2, 512], got ${resolution}.`);
  const { boxMin, boxMax } = field.layout;
  const ext = [0, 1, 2].map((a) => boxMax[a] - boxMin[a]);
  const h = Math.max(...ext) / (resolution - 1);
  const dims = ext.map((e) => Math.max(2, Math.round(e / h) + 1)) as [number, number, number];
  const spacing = ext.map((e, a) => e / (dims[a] - 1)) as [number, number, number];
  const n = dims[0] * dims[1] * dims[2];
  const points = new Float32Array(n * 3);
  for (let z = 0, i = 0; z < dims[2]; z++)
    for (let y = 0; y < dims[1]; y++)
      for (let x = 0; x < dims[0]; x++, i++) points.set([boxMin[0] + x * spacing[0], boxMin[1] + y * spacing[1], boxMin[2] + z * spacing[2]], i * 3);
  const { density } = await queryField(field, warp ? await warp(points) : points);
  return { values: density, dims, origin: [...boxMin] as [number, number, number], spacing };
}

export interface NerfMeshOptions {
  /** Grid vertices along the longest side of the box (default 128). */
  resolution?: number;
  /** Density of the surface, in 1/world units (default 5). */
  isoDensity?: number;
  /** 4D: the frame's warp of world points to the canonical field. */
  warp?: PointWarp;
}

/** Marching cubes over the density; vertex colours are the field's colour seen from outside (along -normal). */
export async function radianceFieldToMesh(field: RadianceField, options: NerfMeshOptions = {}): Promise<ColoredMesh> {
  const iso = options.isoDensity ?? 5;
  if (!(iso > 0 && Number.isFinite(iso))) throw new InputError(`nerf mesh: isoDensity must be a positive number, got ${iso}.`);
  const grid = await sampleDensityGrid(field, options.resolution ?? 128, options.warp);
  const mesh = marchingCubes(grid, iso);
  const dirs = mesh.normals.map((v) => -v);
  const at = options.warp && mesh.positions.length ? await options.warp(mesh.positions) : mesh.positions;
  const colors = mesh.positions.length ? (await queryField(field, at, dirs)).rgb : new Float32Array(0);
  return { ...mesh, colors };
}

/**
 * The mesh as GLB; a mesh without triangles (a field with nowhere above the iso density)
 * becomes a scene with one empty node, since glTF has no valid empty mesh.
 */
export function nerfMeshGlb(mesh: ColoredMesh, name: string): Uint8Array {
  if (mesh.indices.length > 0) return writeMeshGlb(mesh, name);
  const builder = new GltfBuilder();
  builder.addScene([builder.addNode({ name: `${name} (empty: no density above isoDensity)` })]);
  return builder.toGlb();
}

export interface NerfSplatOptions {
  /** Splats to produce. */
  count: number;
  /** Candidate points drawn uniformly in the box per splat (default 8). */
  oversample?: number;
  /** Candidates with lower density are never chosen (default 0.5). */
  minDensity?: number;
  seed?: number;
}

/**
 * Gaussian splats sampled from the field: candidates uniform in the occupancy grid's occupied
 * cells (update it first; before any update that is the whole box) are chosen with
 * probability growing with their opacity over one splat's size (weighted sampling without
 * replacement), each becomes an isotropic splat of the spacing `count` splats would have if
 * they filled the occupied volume, with the field's opacity over that size and its colour
 * (SH degree 0; the colour is seen along -y, i.e. from above). Fewer than `count` splats
 * come back when fewer candidates reach `minDensity`.
 */
export async function radianceFieldToGaussians(field: RadianceField, options: NerfSplatOptions): Promise<GaussianData> {
  const count = options.count;
  if (!Number.isInteger(count) || count < 1) throw new InputError(`nerf to splats: count must be a positive integer, got ${count}.`);
  const over = options.oversample ?? 8;
  const minDensity = options.minDensity ?? 0.5;
  const rng = new Rng(options.seed ?? 0);
  const { boxMin, boxMax } = field.layout;
  // Candidates are drawn in the occupancy grid's occupied cells (the whole box before any update).
  const flags = await field.occupancy.readFlags();
  const g = field.occupancy.resolution;
  const cells: number[] = [];
  flags.forEach((f, i) => f && cells.push(i));
  if (cells.length === 0) throw new InputError('nerf to splats: the occupancy grid has no occupied cell; the field is empty.');
  const cellExt = [0, 1, 2].map((a) => (boxMax[a] - boxMin[a]) / g);
  const m = count * over;
  const points = new Float32Array(m * 3);
  for (let i = 0; i < m; i++) {
    const c = cells[rng.int(cells.length)];
    const xyz = [c % g, Math.floor(c / g) % g, Math.floor(c / (g * g))];
    for (let a = 0; a < 3; a++) points[i * 3 + a] = boxMin[a] + (xyz[a] + rng.next()) * cellExt[a];
  }
  const dirs = new Float32Array(m * 3).map((_, i) => (i % 3 === 1 ? -1 : 0));
  const { density, rgb } = await queryField(field, points, dirs);
  const candidates: number[] = [];
  for (let i = 0; i < m; i++) if (density[i] >= minDensity) candidates.push(i);
  const volume = cells.length * cellExt[0] * cellExt[1] * cellExt[2];
  const occupiedVolume = Math.max((volume * candidates.length) / m, 1e-12);
  const chosenCount = Math.min(count, candidates.length);
  const spacing = Math.cbrt(occupiedVolume / Math.max(chosenCount, 1));
  const sigma = 0.5 * spacing;
  const opacityOf = (i: number) => 1 - Math.exp(-density[i] * spacing);
  // Efraimidis-Spirakis keys: u^(1/w), largest first.
  const keyed = candidates.map((i) => ({ i, key: Math.log(Math.max(rng.next(), 1e-300)) / Math.max(opacityOf(i), 1e-12) }));
  keyed.sort((a, b) => b.key - a.key);
  const out = emptyGaussians(chosenCount, 0);
  for (let s = 0; s < chosenCount; s++) {
    const i = keyed[s].i;
    out.means.set(points.subarray(i * 3, i * 3 + 3), s * 3);
    out.logScales.fill(Math.log(sigma), s * 3, s * 3 + 3);
    out.quats.set([1, 0, 0, 0], s * 4);
    const a = Math.min(Math.max(opacityOf(i), 1e-4), 1 - 1e-4);
    out.opacityLogits[s] = Math.log(a / (1 - a));
    for (let c = 0; c < 3; c++) out.sh[s * 3 + c] = (rgb[i * 3 + c] - 0.5) / SH_C0;
  }
  return out;
}
