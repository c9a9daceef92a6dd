/**
 * A small CPU ray caster for analytic scenes (boxes and spheres with colours, textures and
 * partial opacity) that produces the renderer's buffers (rgb, alpha, depth = alpha-weighted
 * camera z, normal = alpha-weighted world normal) for known cameras. Tests and benchmarks use
 * it to build views whose correct reward is known, without depending on a renderer.
 * Shading is Lambertian under a fixed world light, so colours do not depend on the view.
 */
import type { Camera } from '../../math/camera.ts';
import { cameraCenter } from '../../math/camera.ts';

type Vec3 = [number, number, number];
/** Colour of a surface point: face index (box: 0 +x, 1 -x, 2 +y, 3 -y, 4 +z, 5 -z; sphere: 0) and
 * (u, v) in [-1, 1], u to the right and v up as seen from outside looking at the face. */
export type Paint = (face: number, u: number, v: number) => Vec3;

export interface Primitive {
  kind: 'box' | 'sphere';
  center: Vec3;
  /** Half extents for a box, [r, r, r] for a sphere. */
  size: Vec3;
  paint: Paint | Vec3;
  /** Opacity of the surface (1 = solid). */
  opacity?: number;
}

export interface CpuViews {
  views: number;
  width: number;
  height: number;
  cameras: Camera[];
  rgb: Float32Array;
  alpha: Float32Array;
  depth: Float32Array;
  normal: Float32Array;
}

const LIGHT: Vec3 = normalize([0.4, 0.8, 0.45]);

function normalize(a: Vec3): Vec3 {
  const l = Math.hypot(a[0], a[1], a[2]) || 1;
  return [a[0] / l, a[1] / l, a[2] / l];
}

interface Hit {
  t: number;
  n: Vec3;
  color: Vec3;
  opacity: number;
}

function paintAt(p: Primitive, face: number, u: number, v: number): Vec3 {
  return typeof p.paint === 'function' ? p.paint(face, u, v) : p.paint;
}

function intersect(p: Primitive, o: Vec3, d: Vec3): Hit | null {
  const q: Vec3 = [o[0] - p.center[0], o[1] - p.center[1], o[2] - p.center[2]];
  const opacity = p.opacity ?? 1;
  if (p.kind === 'sphere') {
    const r = p.size[0];
    const a = d[0] ** 2 + d[1] ** 2 + d[2] ** 2;
    const b = 2 * (q[0] * d[0] + q[1] * d[1] + q[2] * d[2]);
    const c = q[0] ** 2 + q[1] ** 2 + q[2] ** 2 - r * r;
    const disc = b * b - 4 * a * c;
    if (disc < 0) return null;
    const t = (-b - Math.sqrt(disc)) / (2 * a);
    if (t <= 0) return null;
    const n = normalize([q[0] + t * d[0], q[1] + t * d[1], q[2] + t * d[2]]);
    return { t, n, color: paintAt(p, 0, Math.atan2(n[0], n[2]) / Math.PI, n[1]), opacity };
  }
  let tmin = -Infinity;
  let tmax = Infinity;
  let axis = 0;
  for (let k = 0; k < 3; k++) {
    if (Math.abs(d[k]) < 1e-12) {
      if (Math.abs(q[k]) > p.size[k]) return null;
      continue;
    }
    let t0 = (-p.size[k] - q[k]) / d[k];
    let t1 = (p.size[k] - q[k]) / d[k];
    if (t0 > t1) [t0, t1] = [t1, t0];
    if (t0 > tmin) {
      tmin = t0;
      axis = k;
    }
    tmax = Math.min(tmax, t1);
  }
  if (tmin > tmax || tmin <= 0) return null;
  const sign = d[axis] > 0 ? -1 : 1;
  const n: Vec3 = [0, 0, 0];
  n[axis] = sign;
  const h: Vec3 = [q[0] + tmin * d[0], q[1] + tmin * d[1], q[2] + tmin * d[2]];
  const rel = (k: number) => h[k] / p.size[k];
  // Face-local (u right, v up) as seen from outside the face.
  let u = 0;
  let v = 0;
  if (axis === 0) [u, v] = [-sign * rel(2), rel(1)];
  else if (axis === 1) [u, v] = [rel(0), -sign * rel(2)];
  else [u, v] = [sign * rel(0), rel(1)];
  const face = axis * 2 + (sign > 0 ? 0 : 1);
  return { t: tmin, n, color: paintAt(p, face, u, v), opacity };
}

/** Renders the primitives (front-to-back compositing of every surface hit) from each camera. */
export function renderAnalytic(prims: Primitive[], cameras: Camera[]): CpuViews {
  const { width: W, height: H } = cameras[0];
  const V = cameras.length;
  const out: CpuViews = {
    views: V,
    width: W,
    height: H,
    cameras,
    rgb: new Float32Array(V * H * W * 3),
    alpha: new Float32Array(V * H * W),
    depth: new Float32Array(V * H * W),
    normal: new Float32Array(V * H * W * 3),
  };
  cameras.forEach((cam, v) => {
    const m = cam.viewmat;
    const o = cameraCenter(cam) as Vec3;
    for (let y = 0; y < H; y++)
      for (let x = 0; x < W; x++) {
        // Camera-frame ray with z = 1, so the hit parameter t is the camera z of the hit.
        const dc: Vec3 = [(x + 0.5 - cam.cx) / cam.fx, (y + 0.5 - cam.cy) / cam.fy, 1];
        const d: Vec3 = [
          m[0] * dc[0] + m[4] * dc[1] + m[8] * dc[2],
          m[1] * dc[0] + m[5] * dc[1] + m[9] * dc[2],
          m[2] * dc[0] + m[6] * dc[1] + m[10] * dc[2],
        ];
        const hits = prims.map((p) => intersect(p, o, d)).filter((h): h is Hit => h !== null).sort((a, b) => a.t - b.t);
        let T = 1;
        const i = (v * H + y) * W + x;
        for (const h of hits) {
          const w = T * h.opacity;
          const shade = 0.35 + 0.65 * Math.max(0, h.n[0] * LIGHT[0] + h.n[1] * LIGHT[1] + h.n[2] * LIGHT[2]);
          for (let c = 0; c < 3; c++) {
            out.rgb[i * 3 + c] += w * h.color[c] * shade;
            out.normal[i * 3 + c] += w * h.n[c];
          }
          out.alpha[i] += w;
          out.depth[i] += w * h.t;
          T *= 1 - h.opacity;
          if (T < 1e-4) break;
        }
      }
  });
  return out;
}

/** Uploads CPU views as a GPU batch (the RenderOutput layout). */
export function uploadViews(
  gpu: { upload(label: string, data: ArrayBufferView): GPUBuffer },
  v: CpuViews,
): { views: number; width: number; height: number; cameras: Camera[]; rgb: GPUBuffer; alpha: GPUBuffer; depth: GPUBuffer; normal: GPUBuffer } {
  return {
    views: v.views,
    width: v.width,
    height: v.height,
    cameras: v.cameras,
    rgb: gpu.upload('views.rgb', v.rgb),
    alpha: gpu.upload('views.alpha', v.alpha),
    depth: gpu.upload('views.depth', v.depth),
    normal: gpu.upload('views.normal', v.normal),
  };
}
