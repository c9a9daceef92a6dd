/**
 * Depth distortion of the splat renderer (2DGS; generation.md §6 row 3), run only when a
 * render asks for it: distortion_fwd replays a forward frame's compositing and writes
 * L = sum_{i<j} w_i w_j (m_i - m_j)^2 per pixel; distortion_bwd adds the exact gradient of
 * sum g * L into the renderer's screen-space gradients (grad2d) before project_bwd runs, so
 * every parameter gradient follows.
 *
 * Squared differences, as 2DGS's code computes (its paper writes |m_i - m_j|): smooth, so
 * the gradient is exact everywhere, including at the optimum where the splats meet, and one
 * front-to-back pass of three running sums gives it.
 *
 * Depth mapping m(z) = f / (f - n) * (1 - n / z), 2DGS's NDC-like depth with its (n, f) =
 * (0.2, 100) by default: m is in [0, 1) over [n, f), so L <= 1/4 per pixel whatever the
 * scene's scale and far floaters cannot blow it up, and nearby gaps (which show on screen)
 * weigh more than the same gap far away. The render's own near/far would not do: far is
 * 1e10 by default, which squeezes every depth into 1 - n/z.
 */
import type { Gpu } from '../../gpu/gpu.ts';
import { InputError } from '../../errors.ts';
import type { RenderOptions } from '../types.ts';
import type { SplatChunk, SplatFrameState } from './splat-frame.ts';

export const DEFAULT_DISTORTION_RANGE: [number, number] = [0.2, 100];

export interface DistortionMapping {
  near: number;
  far: number;
  /** m(z). */
  map: (z: number) => number;
  /** dm/dz. */
  slope: (z: number) => number;
}

/** Validates `distortionRange` and returns the depth mapping. */
export function distortionMapping(o?: RenderOptions): DistortionMapping {
  const r = o?.distortionRange ?? DEFAULT_DISTORTION_RANGE;
  const [near, far] = Array.isArray(r) ? r : [NaN, NaN];
  if (!(Array.isArray(r) && r.length === 2 && near > 0 && far > near && Number.isFinite(far)))
    throw new InputError(`render: distortionRange must be [near, far] with 0 < near < far < infinity; got ${JSON.stringify(r)}.`);
  const a = far / (far - near);
  return { near, far, map: (z) => a * (1 - near / z), slope: (z) => (a * near) / (z * z) };
}

/** What a frame rendered with `distortion: true` keeps. */
export interface DistortionState {
  /** [V][H][W] f32. */
  image: GPUBuffer;
  /** [V][H][W][3] (D1, D2, m_first), for the backward (A = 1 - T from the pixel state). */
  moments: GPUBuffer;
  /** DistortionParams uniform. */
  params: GPUBuffer;
}

export class SplatDistortion {
  private constructor(
    private readonly gpu: Gpu,
    private readonly fwd: GPUComputePipeline,
    private readonly bwd: GPUComputePipeline,
  ) {}

  /** `subgroups`: hand splats out and reduce with subgroup operations, as the renderer's rasterizers do (SplatRenderer.usesSubgroups). */
  static async create(gpu: Gpu, subgroups: boolean): Promise<SplatDistortion> {
    const [fwd, bwd] = await Promise.all([
      gpu.kernel({ file: 'splat/distortion_fwd.wgsl', entry: 'distortion_fwd', defines: { SUBGROUPS: subgroups } }),
      gpu.kernel({ file: 'splat/distortion_bwd.wgsl', entry: 'distortion_bwd', defines: { SUBGROUPS: subgroups } }),
    ]);
    return new SplatDistortion(gpu, fwd, bwd);
  }

  /** Runs distortion_fwd over a finished forward frame, chunk by chunk of views. */
  async forward(s: SplatFrameState, options: RenderOptions | undefined): Promise<DistortionState> {
    const gpu = this.gpu;
    const m = distortionMapping(options);
    const pixels = s.shape.views * s.shape.width * s.shape.height;
    gpu.checkSize('splat distortion moments', pixels * 12, 'the views per batch or the image size');
    const params = gpu.uniform('splat distortion params', new Float32Array([m.far / (m.far - m.near), m.near, 0, 0]));
    const image = gpu.buffer('image distortion', pixels * 4);
    const moments = gpu.buffer('splat distortion moments', pixels * 12);
    try {
      const enc = gpu.device.createCommandEncoder({ label: 'splat distortion forward' });
      const tiles = s.shape.tilesX * s.shape.tilesY;
      for (const c of s.chunks) gpu.dispatch(enc, this.fwd, [c.uniform, params, c.ranges, c.isectIds, c.projected, s.pixelState, image, moments], c.views * tiles);
      await gpu.submit('splat distortion forward', enc);
    } catch (e) {
      for (const b of [params, image, moments]) b.destroy();
      throw e;
    }
    return { image, moments, params };
  }

  /** Records distortion_bwd for one chunk: its grad2d += d(sum cotangent * L)/d(screen-space splats). */
  recordBackward(enc: GPUCommandEncoder, s: SplatFrameState, c: SplatChunk, d: DistortionState, cotangent: GPUBuffer, grad2d: GPUBuffer): void {
    const pixels = s.shape.views * s.shape.width * s.shape.height;
    if (cotangent.size < pixels * 4)
      throw new InputError(`splat backward: distortion cotangent '${cotangent.label}' has ${cotangent.size} bytes, the frame needs ${pixels * 4}.`);
    const tiles = s.shape.tilesX * s.shape.tilesY;
    this.gpu.dispatch(enc, this.bwd, [c.uniform, d.params, c.ranges, c.isectIds, c.projected, s.pixelState, d.moments, cotangent, grad2d], c.views * tiles);
  }
}
