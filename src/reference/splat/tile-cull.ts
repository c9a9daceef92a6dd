/**
 * Reference (f64) of shaders/splat/tile_cull.wgsl: which tiles of a splat's rectangle its
 * ellipse reaches, i.e. where the smallest sigma over the tile's pixel centres is at most
 * ln(255 opacity) (+ the culling margin). The GPU emits one intersection per such tile.
 */
import { TILE_SIZE } from '../../render/splat/constants.ts';
import type { Splat2D } from './project.ts';

/** The kernels' margin on the sigma threshold (CULL_MARGIN in tile_cull.wgsl). */
export const CULL_MARGIN = 0.01;

/** Smallest 0.5 d^T conic d, d = mean - p, over p in the rectangle [lo, hi] (inclusive). */
export function rectMinSigma(mean: [number, number], conic: [number, number, number], lo: [number, number], hi: [number, number]): number {
  if (mean[0] >= lo[0] && mean[0] <= hi[0] && mean[1] >= lo[1] && mean[1] <= hi[1]) return 0;
  const [a, b, c] = conic;
  const q = (dx: number, dy: number) => 0.5 * (a * dx * dx + c * dy * dy) + b * dx * dy;
  const clamp = (v: number, l: number, h: number) => Math.min(h, Math.max(l, v));
  let best = Infinity;
  for (const y of [lo[1], hi[1]]) {
    const dy = mean[1] - y;
    best = Math.min(best, q(clamp((-b * dy) / a, mean[0] - hi[0], mean[0] - lo[0]), dy));
  }
  for (const x of [lo[0], hi[0]]) {
    const dx = mean[0] - x;
    best = Math.min(best, q(dx, clamp((-b * dx) / c, mean[1] - hi[1], mean[1] - lo[1])));
  }
  return best;
}

/** Whether splat s reaches tile (tx, ty) of a width x height image. */
export function tileTouched(s: Splat2D, tx: number, ty: number, width: number, height: number): boolean {
  const lo: [number, number] = [tx * TILE_SIZE + 0.5, ty * TILE_SIZE + 0.5];
  const hi: [number, number] = [Math.min(tx * TILE_SIZE + TILE_SIZE, width) - 0.5, Math.min(ty * TILE_SIZE + TILE_SIZE, height) - 0.5];
  return rectMinSigma(s.mean2d, s.conic, lo, hi) <= Math.log(255 * s.opacity) + CULL_MARGIN;
}

/** The number of tiles of s's rectangle it reaches (0 for an invisible splat). */
export function touchedTileCount(s: Splat2D, width: number, height: number): number {
  const [x0, y0, x1, y1] = s.rect;
  let n = 0;
  for (let ty = y0; ty < y1; ty++) for (let tx = x0; tx < x1; tx++) if (tileTouched(s, tx, ty, width, height)) n++;
  return n;
}
