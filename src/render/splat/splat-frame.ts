/**
 * One rendered batch of the splat renderer: the RenderOutput images, per-(view, splat)
 * radii and visibility, and the state the backward pass replays (projected splats, sorted
 * intersections, tile ranges, per-pixel final transmittance and end index).
 */
import type { Camera } from '../../math/camera.ts';
import type { GaussianCloud } from '../../scene/gaussian-cloud.ts';
import type { RenderOutput } from '../types.ts';
import type { BatchShape, ResolvedOptions } from './frame-uniform.ts';
import type { DistortionState } from './distortion.ts';

/**
 * The per-chunk state of a frame whose views were rendered in chunks (one chunk when they
 * all fit): its uniform (views viewBase.. of the frame), projected splats, radii and
 * visibility, sorted intersections and tile ranges.
 */
export interface SplatChunk {
  viewBase: number;
  views: number;
  uniform: GPUBuffer;
  projected: GPUBuffer;
  radii: GPUBuffer;
  visible: GPUBuffer;
  isectIds: GPUBuffer;
  numIsects: number;
  /** The depth sort's size: visible (view, splat) pairs and the key bits their depth range needs. */
  depthSort: { pairs: number; bits: number };
  ranges: GPUBuffer;
}

export function destroyChunk(c: SplatChunk): void {
  for (const b of [c.uniform, c.projected, c.radii, c.visible, c.isectIds, c.ranges]) b.destroy();
}

export interface SplatFrameState {
  cloud: GaussianCloud;
  shape: BatchShape;
  options: ResolvedOptions;
  /** Splats whose SH coefficients the first of two SH bindings holds; the count when unsplit. */
  shSplit: number;
  /** The chunks of views, in order; the fields below are those of the first. */
  chunks: SplatChunk[];
  uniform: GPUBuffer;
  /** [V][N] x 4 vec4<u32> (layout in shaders/splat/common.wgsl). */
  projected: GPUBuffer;
  /** Depth-then-tile sorted (view, splat) ids of the intersections. */
  isectIds: GPUBuffer;
  /** Intersections of all chunks. */
  numIsects: number;
  /** [V][tiles] (start, end). */
  ranges: GPUBuffer;
  /** [V][H][W] (final transmittance bits, end index). */
  pixelState: GPUBuffer;
  /** Set when rendered with `distortion: true` (src/render/splat/distortion.ts). */
  distortion?: DistortionState;
}

export class SplatFrame implements RenderOutput {
  readonly views: number;
  readonly width: number;
  readonly height: number;
  readonly cameras: Camera[];
  readonly rgb: GPUBuffer;
  readonly alpha: GPUBuffer;
  readonly depth: GPUBuffer;
  readonly normal: GPUBuffer;
  /** [V][N] u32: screen radius in pixels (max of x and y extents), 0 when culled. */
  readonly radii: GPUBuffer;
  /** [V][N] u32: 1 when the splat touches at least one tile of the view. */
  readonly visible: GPUBuffer;
  readonly state: SplatFrameState;

  constructor(
    cameras: Camera[],
    images: { rgb: GPUBuffer; alpha: GPUBuffer; depth: GPUBuffer; normal: GPUBuffer; radii: GPUBuffer; visible: GPUBuffer },
    state: SplatFrameState,
  ) {
    this.cameras = cameras;
    this.views = state.shape.views;
    this.width = state.shape.width;
    this.height = state.shape.height;
    this.rgb = images.rgb;
    this.alpha = images.alpha;
    this.depth = images.depth;
    this.normal = images.normal;
    this.radii = images.radii;
    this.visible = images.visible;
    this.state = state;
  }

  /** [V][H][W] depth distortion, when rendered with `distortion: true`. */
  get distortion(): GPUBuffer | undefined {
    return this.state.distortion?.image;
  }

  get pixels(): number {
    return this.views * this.width * this.height;
  }

  destroy(): void {
    const s = this.state;
    for (const b of [this.rgb, this.alpha, this.depth, this.normal, this.radii, this.visible, s.pixelState]) b.destroy();
    for (const c of s.chunks) destroyChunk(c);
    const d = s.distortion;
    if (d) for (const b of [d.image, d.moments, d.params]) b.destroy();
  }
}
