/**
 * Packs the per-batch uniform of the splat kernels (struct Frame in
 * shaders/splat/common.wgsl): image size, tile grid, options, background and the views.
 */
import { InputError } from '../../errors.ts';
import { cameraCenter, type Camera } from '../../math/camera.ts';
import { DEFAULT_FAR, DEFAULT_NEAR, EPS2D, MAX_VIEWS, TILE_SIZE } from './constants.ts';
import type { RenderOptions } from '../types.ts';

const HEADER_WORDS = 24;
const VIEW_WORDS = 20;
export const FRAME_UNIFORM_BYTES = (HEADER_WORDS + VIEW_WORDS * MAX_VIEWS) * 4;
/** Word offset of `num_isects`, written after the intersection count is known. */
export const NUM_ISECTS_WORD = 16;
/** Word offset of `num_visible`, written after the visible pairs are counted. */
export const NUM_VISIBLE_WORD = 20;

export interface ResolvedOptions {
  background: [number, number, number];
  shDegree: number;
  antialiased: boolean;
  near: number;
  far: number;
}

export interface BatchShape {
  views: number;
  width: number;
  height: number;
  tilesX: number;
  tilesY: number;
}

/** Validates the cameras of one batch (same size, at most MAX_VIEWS, finite). */
export function batchShape(cameras: Camera[]): BatchShape {
  if (cameras.length === 0) throw new InputError('render: no cameras given; pass at least one.');
  if (cameras.length > MAX_VIEWS) throw new InputError(`render: ${cameras.length} views in one batch; at most ${MAX_VIEWS}, split the batch.`);
  const { width, height } = cameras[0];
  cameras.forEach((c, i) => {
    if (c.width !== width || c.height !== height)
      throw new InputError(`render: camera ${i} is ${c.width}x${c.height}, camera 0 is ${width}x${height}; all views in a batch share one size.`);
    if (!(Number.isInteger(c.width) && Number.isInteger(c.height) && c.width > 0 && c.height > 0))
      throw new InputError(`render: camera ${i} has size ${c.width}x${c.height}; width and height must be positive integers.`);
    const nums = [c.fx, c.fy, c.cx, c.cy, ...Array.from(c.viewmat)];
    if (!nums.every(Number.isFinite) || c.viewmat.length !== 16) throw new InputError(`render: camera ${i} has non-finite intrinsics or viewmat.`);
  });
  return { views: cameras.length, width, height, tilesX: Math.ceil(width / TILE_SIZE), tilesY: Math.ceil(height / TILE_SIZE) };
}

export function resolveOptions(o: RenderOptions | undefined, cloudDegree: number): ResolvedOptions {
  const shDegree = Math.min(o?.shDegree ?? cloudDegree, cloudDegree);
  if (!(Number.isInteger(shDegree) && shDegree >= 0)) throw new InputError(`render: shDegree must be an integer from 0 to ${cloudDegree}.`);
  const near = o?.near ?? DEFAULT_NEAR, far = o?.far ?? DEFAULT_FAR;
  if (!(near > 0 && far > near)) throw new InputError(`render: need 0 < near < far, got near ${near}, far ${far}.`);
  return { background: o?.background ?? [0, 0, 0], shDegree, antialiased: o?.antialiased ?? false, near, far };
}

/**
 * Where a uniform's views sit in the whole frame when the renderer splits the views into
 * chunks, and how the SH buffer is split into two bindings (splats in the first range).
 */
export interface ChunkPlacement {
  viewBase: number;
  totalViews: number;
  shSplit: number;
}

export function packFrameUniform(
  shape: BatchShape,
  cameras: Camera[],
  count: number,
  shCoeffs: number,
  o: ResolvedOptions,
  place: ChunkPlacement = { viewBase: 0, totalViews: shape.views, shSplit: count },
): ArrayBuffer {
  const bytes = new ArrayBuffer(FRAME_UNIFORM_BYTES);
  const u = new Uint32Array(bytes);
  const f = new Float32Array(bytes);
  u.set([shape.views, count, shape.width, shape.height, shape.tilesX, shape.tilesY, o.shDegree, shCoeffs], 0);
  f.set([o.near, o.far, EPS2D], 8);
  u[11] = o.antialiased ? 1 : 0;
  f.set([...o.background, 0], 12);
  u.set([place.viewBase, place.totalViews, place.shSplit], NUM_ISECTS_WORD + 1);
  cameras.forEach((c, v) => {
    const m = c.viewmat;
    const base = HEADER_WORDS + v * VIEW_WORDS;
    f.set([m[0], m[1], m[2], m[3], m[4], m[5], m[6], m[7], m[8], m[9], m[10], m[11]], base);
    f.set([c.fx, c.fy, c.cx, c.cy], base + 12);
    f.set([...cameraCenter(c), 0], base + 16);
  });
  return bytes;
}
