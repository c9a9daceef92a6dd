/**
 * Silhouettes of simple shapes (signed distance functions, sphere-traced on the CPU) seen from
 * a given camera, and a scale- and position-free comparison of silhouettes: both masks are
 * resampled into their own bounding box before the intersection over union is taken.
 */
import type { Camera } from '../math/camera.ts';
import { cameraCenter } from '../math/camera.ts';
import type { ShapeName } from './prompt-vocabulary.ts';

type Sdf = (x: number, y: number, z: number) => number;

const SDFS: Record<ShapeName, Sdf> = {
  cube: (x, y, z) => {
    const q = [Math.abs(x) - 0.5, Math.abs(y) - 0.5, Math.abs(z) - 0.5];
    return Math.hypot(...q.map((v) => Math.max(v, 0))) + Math.min(Math.max(q[0], q[1], q[2]), 0);
  },
  sphere: (x, y, z) => Math.hypot(x, y, z) - 0.6,
  cylinder: (x, y, z) => {
    const dx = Math.hypot(x, z) - 0.5;
    const dy = Math.abs(y) - 0.5;
    return Math.min(Math.max(dx, dy), 0) + Math.hypot(Math.max(dx, 0), Math.max(dy, 0));
  },
  // Apex up at y = 0.5, base radius 0.5 at y = -0.5; a conservative distance bound.
  cone: (x, y, z) => Math.max(-(y + 0.5), y - 0.5, (Math.hypot(x, z) - 0.5 * (0.5 - y)) / Math.hypot(1, 0.5)),
  torus: (x, y, z) => Math.hypot(Math.hypot(x, z) - 0.45, y) - 0.18,
};

/**
 * Binary silhouette (res x resY samples over the whole image) of a unit-sized shape at the
 * origin, scaled by `scale`, seen from `cam`.
 */
export function shapeSilhouette(shape: ShapeName, cam: Camera, res: number, scale = 1, resY = res): Uint8Array {
  const unit = SDFS[shape];
  const sdf: Sdf = (x, y, z) => unit(x / scale, y / scale, z / scale) * scale;
  const m = cam.viewmat;
  const o = cameraCenter(cam);
  const sx = cam.width / res;
  const sy = cam.height / resY;
  const out = new Uint8Array(res * resY);
  for (let j = 0; j < resY; j++)
    for (let i = 0; i < res; i++) {
      const dc = [((i + 0.5) * sx - cam.cx) / cam.fx, ((j + 0.5) * sy - cam.cy) / cam.fy, 1];
      let d = [0, 1, 2].map((k) => m[k] * dc[0] + m[4 + k] * dc[1] + m[8 + k] * dc[2]);
      const l = Math.hypot(d[0], d[1], d[2]);
      d = d.map((v) => v / l);
      let t = 0;
      for (let s = 0; s < 64 && t < 50; s++) {
        const h = sdf(o[0] + t * d[0], o[1] + t * d[1], o[2] + t * d[2]);
        if (h < 1e-3) {
          out[j * res + i] = 1;
          break;
        }
        t += h;
      }
    }
  return out;
}

/** Resamples a binary mask into its bounding box on a grid x grid raster (null if empty). */
export function boxNormalised(mask: Uint8Array, w: number, h: number, grid: number): Uint8Array | null {
  let x0 = w, y0 = h, x1 = -1, y1 = -1;
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++)
      if (mask[y * w + x]) {
        x0 = Math.min(x0, x); x1 = Math.max(x1, x);
        y0 = Math.min(y0, y); y1 = Math.max(y1, y);
      }
  if (x1 < 0) return null;
  const out = new Uint8Array(grid * grid);
  for (let j = 0; j < grid; j++)
    for (let i = 0; i < grid; i++) {
      const x = Math.min(x1, Math.floor(x0 + ((i + 0.5) / grid) * (x1 - x0 + 1)));
      const y = Math.min(y1, Math.floor(y0 + ((j + 0.5) / grid) * (y1 - y0 + 1)));
      out[j * grid + i] = mask[y * w + x];
    }
  return out;
}

export function iou(a: Uint8Array, b: Uint8Array): number {
  let inter = 0;
  let union = 0;
  for (let i = 0; i < a.length; i++) {
    inter += a[i] & b[i];
    union += a[i] | b[i];
  }
  return union ? inter / union : 0;
}
