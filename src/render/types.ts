/**
 * The renderer contract every representation meets (splats, NeRF, and either deformed in
 * time). Images are f32, structure-of-arrays, batch of views leading, row-major pixels:
 *   rgb    [V][H][W][3]   alpha [V][H][W]   depth [V][H][W]   normal [V][H][W][3]
 * Depth is the alpha-weighted expected camera-space z (0 where nothing is hit, not divided
 * by alpha); normal is the composited world-space unit normal (also alpha-weighted). The
 * normal buffer is always there, but a frame rendered with `normals: false` may hold zeros
 * in it (NeRF does: its normals cost extra field evaluations; splat normals are cheap and
 * always computed); the trainer renders so only when no reward reads normals.
 * All views in one batch share width and height.
 * distortion [V][H][W] (splats only, on request): the 2DGS depth distortion of each ray,
 * sum over pairs of composited splats i < j of w_i w_j (m_i - m_j)^2, w = alpha T, m the
 * splat's camera depth mapped by m(z) = f / (f - n) * (1 - n / z) with (n, f) =
 * `distortionRange` (src/render/splat/distortion.ts says why).
 */
import type { Camera } from '../math/camera.ts';

export interface RenderOutput {
  views: number;
  width: number;
  height: number;
  cameras: Camera[];
  rgb: GPUBuffer;
  alpha: GPUBuffer;
  depth: GPUBuffer;
  normal: GPUBuffer;
  /** Present when rendered with `distortion: true` by a renderer that supports it. */
  distortion?: GPUBuffer;
}

/** Gradients of a scalar objective w.r.t. the render outputs; a missing one is zero. */
export interface RenderCotangents {
  rgb?: GPUBuffer;
  alpha?: GPUBuffer;
  depth?: GPUBuffer;
  normal?: GPUBuffer;
  /** Needs a frame rendered with `distortion: true`. */
  distortion?: GPUBuffer;
}

export interface RenderOptions {
  /** Background colour added behind the splats (linear 0..1). */
  background?: [number, number, number];
  /** Use SH up to this degree (<= the cloud's). */
  shDegree?: number;
  /** Mip-Splatting style antialiasing with opacity compensation. */
  antialiased?: boolean;
  near?: number;
  far?: number;
  /** Also compute the per-ray depth distortion (splat renderer only; costs one extra pass). */
  distortion?: boolean;
  /** (n, f) of the distortion's depth mapping; default [0.2, 100], as 2DGS. */
  distortionRange?: [number, number];
  /** False: the normal image may be left all zeros (default true; only NeRF saves work by it). */
  normals?: boolean;
}

/** Pixel count helpers shared by renderers and rewards. */
export function imageSizes(views: number, width: number, height: number) {
  const pixels = views * width * height;
  return { pixels, rgbBytes: pixels * 12, scalarBytes: pixels * 4 };
}
