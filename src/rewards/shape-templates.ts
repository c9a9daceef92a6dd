/**
 * Silhouettes of simple shapes (signed distance functions, sphere-traced on the CPU) seen from
 * a given camera, and a scale- and position-free comparison of silhouettes: both masks are
 * resampled into their own bounding box before the intersection over union is taken.
 */
import type { Camera } from '../math/camera.ts';
import { cameraCenter } from '../math/camera.ts';
import type { ShapeName } from './prompt-vocabulary.ts';

type Sdf = (x: number, y: number, z: number) => number;

// Written with scalars and Math.sqrt (no arrays, no Math.hypot): the tracer calls these up to
// 64 times per pixel of every view of every step, and allocation and hypot's overflow care
// made it most of the default job's time.
const len2 = (x: number, y: number) => Math.sqrt(x * x + y * y);
const len3 = (x: number, y: number, z: number) => Math.sqrt(x * x + y * y + z * z);
const CONE_SLOPE = len2(1, 0.5);

const SDFS: Record<ShapeName, Sdf> = {
  cube: (x, y, z) => {
    const qx = Math.abs(x) - 0.5, qy = Math.abs(y) - 0.5, qz = Math.abs(z) - 0.5;
    return len3(Math.max(qx, 0), Math.max(qy, 0), Math.max(qz, 0)) + Math.min(Math.max(qx, qy, qz), 0);
  },
  sphere: (x, y, z) => len3(x, y, z) - 0.6,
  cylinder: (x, y, z) => {
    const dx = len2(x, z) - 0.5;
    const dy = Math.abs(y) - 0.5;
    return Math.min(Math.max(dx, dy), 0) + len2(Math.max(dx, 0), Math.max(dy, 0));
  },
  // Apex up at y = 0.5, base radius 0.5 at y = -0.5; a conservative distance bound.
  cone: (x, y, z) => Math.max(-(y + 0.5), y - 0.5, (len2(x, z) - 0.5 * (0.5 - y)) / CONE_SLOPE),
  torus: (x, y, z) => len2(len2(x, z) - 0.45, y) - 0.18,
};

/**
 * Binary silhouette (res x resY samples over the whole image) of a unit-sized shape at the
 * origin, scaled by `scale`, seen from `cam`.
 */
export function shapeSilhouette(shape: ShapeName, cam: Camera, res: number, scale = 1, resY = res): Uint8Array {
  const unit = SDFS[shape];
  const m = cam.viewmat;
  const [ox, oy, oz] = cameraCenter(cam);
  const sx = cam.width / res;
  const sy = cam.height / resY;
  const out = new Uint8Array(res * resY);
  for (let j = 0; j < resY; j++)
    for (let i = 0; i < res; i++) {
      // The pixel's ray in world space (R^T of the camera-space direction), unit length.
      const cx = ((i + 0.5) * sx - cam.cx) / cam.fx;
      const cy = ((j + 0.5) * sy - cam.cy) / cam.fy;
      let dx = m[0] * cx + m[4] * cy + m[8];
      let dy = m[1] * cx + m[5] * cy + m[9];
      let dz = m[2] * cx + m[6] * cy + m[10];
      const l = len3(dx, dy, dz);
      dx /= l; dy /= l; dz /= l;
      let t = 0;
      for (let step = 0; step < 64 && t < 50; step++) {
        const h = unit((ox + t * dx) / scale, (oy + t * dy) / scale, (oz + t * dz) / scale) * scale;
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
