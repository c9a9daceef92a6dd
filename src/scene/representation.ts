/**
 * What the RL loop sees of a 3D/4D representation (splats, NeRF, either with a deformation
 * field): its trainable parameter blocks and a differentiable render through the
 * RenderOutput contract. Algorithms never know which representation they drive.
 */
import type { Camera } from '../math/camera.ts';
import type { RenderCotangents, RenderOptions, RenderOutput } from '../render/types.ts';
import type { RewardSplats } from '../rewards/plugin.ts';

/** One trainable f32 buffer with its gradient (the shape Adam takes). */
export interface ParamBlock {
  name: string;
  param: GPUBuffer;
  grad: GPUBuffer;
  /** Number of f32 elements. */
  count: number;
  /** Learning rate for Adam. */
  lr: number;
}

/** A rendered batch that can be differentiated later and must be released. */
export interface RenderFrame extends RenderOutput {
  destroy(): void;
}

export interface Representation {
  readonly kind: 'splats' | 'nerf';
  /** Trainable blocks; a 4D representation includes the deformation field's blocks. */
  params(): ParamBlock[];
  /**
   * Renders the cameras (each camera's `time` selects the moment for 4D). With
   * `options.distortion` the frame also carries `distortion` (splat representations); one that
   * cannot render it (NeRF) throws an InputError rather than leaving it out.
   */
  render(cameras: Camera[], options?: RenderOptions): Promise<RenderFrame>;
  /** Adds d(objective)/d(params) into the grad buffers, given cotangents on the frame. */
  backward(frame: RenderFrame, cotangents: RenderCotangents): Promise<void>;
  /** Sets every grad buffer to zero. */
  zeroGrads(encoder: GPUCommandEncoder): void;
  /**
   * The splats that made `frame`, for rewards that judge them (geometry's anisotropy and
   * floaters); undefined when no single splat set made every view of the frame (NeRF, a 4D
   * batch at several times). The buffers may be the live parameters or the frame's own: read
   * (or copy) them before the parameters change or the frame is destroyed.
   */
  rewardSplats?(frame: RenderFrame): RewardSplats | undefined;
}
