// Constructed scenes with known answers for the reward tests.
import { orbitCamera, type Camera } from '../../../src/math/camera.ts';
import { renderAnalytic, type CpuViews, type Primitive } from '../../../src/reference/rewards/analytic-scenes.ts';

export function ringCameras(n: number, size: number, elevation = 15, radius = 3.2, offset = 0): Camera[] {
  return Array.from({ length: n }, (_, i) => orbitCamera({ elevation, azimuth: offset + (360 * i) / n, radius, fovY: 40, width: size, height: size }));
}

export const RED: [number, number, number] = [0.9, 0.1, 0.08];
export const BLUE: [number, number, number] = [0.1, 0.15, 0.9];

/** Six differently coloured faces, so that opposite views differ. */
export const faceColours = (face: number): [number, number, number] =>
  ([[0.9, 0.2, 0.2], [0.2, 0.8, 0.3], [0.9, 0.9, 0.3], [0.3, 0.3, 0.9], [0.8, 0.5, 0.2], [0.5, 0.2, 0.7]] as [number, number, number][])[face];

export function cube(paint: Primitive['paint'] = RED, half = 0.55): Primitive {
  return { kind: 'box', center: [0, 0, 0], size: [half, half, half], paint };
}
export function sphere(paint: Primitive['paint'] = BLUE, r = 0.65): Primitive {
  return { kind: 'sphere', center: [0, 0, 0], size: [r, r, r], paint };
}
/** Small semi-transparent blobs floating around the object. */
export function floaters(): Primitive[] {
  const spots: [number, number, number][] = [[0.95, 0.6, 0.3], [-0.9, -0.5, 0.6], [0.4, 0.95, -0.8], [-0.6, 0.2, -1.0], [0.1, -0.95, 0.9]];
  return spots.map((c) => ({ kind: 'sphere', center: c, size: [0.16, 0.16, 0.16], paint: [0.7, 0.7, 0.7], opacity: 0.45 }));
}

/** A "face" (two eyes and a mouth, asymmetric) painted on face-local (u, v). */
export function facePattern(u: number, v: number, base: [number, number, number]): [number, number, number] {
  const eye = (cx: number, cy: number, r: number) => (u - cx) ** 2 + (v - cy) ** 2 < r * r;
  if (eye(-0.4, 0.35, 0.18) || eye(0.4, 0.35, 0.12)) return [0.05, 0.05, 0.05];
  if (v > -0.55 && v < -0.35 && u > -0.5 && u < 0.3) return [0.95, 0.95, 0.95];
  return base;
}

/** Cube with a face on its front (+z); `janus` paints the same face on its back too. */
export function facedCube(janus: boolean): Primitive {
  return cube((face, u, v) => {
    const base = faceColours(face);
    if (face === 4 || (janus && face === 5)) return facePattern(u, v, [0.8, 0.6, 0.45]);
    return base;
  });
}

export function render(prims: Primitive[], cams: Camera[]): CpuViews {
  return renderAnalytic(prims, cams);
}

/** A deterministic pseudo-random generator for perturbations. */
export function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** Perturbs a rendering so that alpha sits away from 0, 0.5 and 1 and every buffer has texture (for gradient tests). */
export function soften(v: CpuViews, seed = 1): CpuViews {
  const r = rng(seed);
  const out: CpuViews = { ...v, rgb: v.rgb.slice(), alpha: v.alpha.slice(), depth: v.depth.slice(), normal: v.normal.slice() };
  for (let i = 0; i < v.alpha.length; i++) {
    const solid = v.alpha[i] > 0.5;
    const a = solid ? 0.75 + 0.2 * r() : 0.05 + 0.3 * r();
    const z = solid ? v.depth[i] / v.alpha[i] : 2.5 + r();
    out.alpha[i] = a;
    out.depth[i] = a * z * (1 + 0.01 * (r() - 0.5));
    for (let c = 0; c < 3; c++) {
      const n = solid ? v.normal[i * 3 + c] / v.alpha[i] : 0;
      out.normal[i * 3 + c] = a * (n + 0.2 * (r() - 0.5));
      out.rgb[i * 3 + c] = Math.min(0.95, Math.max(0.05, v.rgb[i * 3 + c] + 0.1 * (r() - 0.5)));
    }
  }
  return out;
}
