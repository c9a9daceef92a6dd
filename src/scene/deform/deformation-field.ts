/**
 * What every time-deformation field offers the trainer, the exporter and the viewer: its
 * trainable blocks, a GPU forward from the canonical splats at one time to deformed splats in
 * the same layouts (so the splat renderer renders them unchanged), a backward that adds into
 * the field's and the canonical splats' gradients, and a plain state that evaluates any time
 * on the CPU.
 */
import type { GaussianData } from '../gaussian-data.ts';
import type { ParamBlock } from '../representation.ts';
import type { HexPlaneConfig } from './hexplane-layout.ts';

/** Canonical splats on the GPU, in the raw layouts of GaussianData. */
export interface CanonicalSplats {
  count: number;
  /** Needed when sh is given (the stride of the [N][K][3] layout). */
  shDegree?: number;
  means: GPUBuffer;
  quats: GPUBuffer;
  logScales: GPUBuffer;
  opacityLogits?: GPUBuffer;
  sh?: GPUBuffer;
}

/** Gradient buffers of the canonical splats (same layouts); absent ones receive nothing. */
export interface CanonicalGrads {
  means?: GPUBuffer;
  quats?: GPUBuffer;
  logScales?: GPUBuffer;
  opacityLogits?: GPUBuffer;
  sh?: GPUBuffer;
}

/** Cotangents on the deformed splats (same layouts); absent ones count as zero. */
export type DeformCotangents = CanonicalGrads;

/**
 * Deformed splats at one time. Parameters the field does not drive (opacity and SH without
 * their heads) are the canonical buffers themselves; `destroy` frees only what the frame owns.
 */
export interface DeformedSplats {
  time: number;
  count: number;
  means: GPUBuffer;
  quats: GPUBuffer;
  logScales: GPUBuffer;
  opacityLogits?: GPUBuffer;
  sh?: GPUBuffer;
  /** The per-splat offsets [N][14] (see offsets.ts). */
  offsets: GPUBuffer;
  destroy(): void;
}

export interface HexPlaneState {
  kind: 'hexplane';
  config: HexPlaneConfig;
  /** All planes, level-major, in the order xy, xz, yz, xt, yt, zt, each [height][width][features]. */
  planes: Float32Array;
  /** W1 [hidden][inputs], b1 [hidden], W2 [14][hidden], b2 [14]. */
  mlp: Float32Array;
}

export interface TrajectoryConfig {
  timeRange: [number, number];
  /** Polynomial degree (terms tau .. tau^degree). */
  degree: number;
  /** Fourier frequencies k = 1..K (sin and cos - 1 terms). */
  frequencies: number;
  /** Whether quaternion deltas follow trajectories too. */
  rotation: boolean;
  lr: number;
}

export interface TrajectoryState {
  kind: 'trajectory';
  config: TrajectoryConfig;
  count: number;
  /** [N][B][3], B = degree + 2 * frequencies. */
  position: Float32Array;
  /** [N][B][4] when config.rotation. */
  rotation: Float32Array | null;
}

export type DeformationState = HexPlaneState | TrajectoryState;

export interface DeformationField {
  readonly kind: DeformationState['kind'];
  params(): ParamBlock[];
  /** Records the deformation of `canonical` at `time`; the frame is valid once the encoder is submitted. */
  forward(encoder: GPUCommandEncoder, time: number, canonical: CanonicalSplats): DeformedSplats;
  /**
   * Records the backward pass of `frame` (made by forward from `canonical`): adds into the
   * field's grad buffers and into `canonicalGrads`.
   */
  backward(
    encoder: GPUCommandEncoder,
    frame: DeformedSplats,
    canonical: CanonicalSplats,
    cotangents: DeformCotangents,
    canonicalGrads: CanonicalGrads,
  ): void;
  /** Sets the field's grad buffers to zero. */
  zeroGrads(encoder: GPUCommandEncoder): void;
  /** The parameters as plain typed arrays (checkpoints, the GLB vendor extension). */
  toState(): Promise<DeformationState>;
  /** Overwrites the parameters from a state of the same shape. */
  fromState(state: DeformationState): void;
  /** The deformed splats at `time` on the CPU, from the current parameters via the reference. */
  evaluateCpu(time: number, canonical: GaussianData): Promise<GaussianData>;
  destroy(): void;
}
