/**
 * Memory layout of a HexPlane field, shared by the GPU field, its kernels' uniforms and the
 * TypeScript reference. Planes are ordered xy, xz, yz, xt, yt, zt; each is stored
 * [height][width][features] with its first axis along the width. The MLP buffer holds
 * W1 [hidden][inputs], b1 [hidden], W2 [14][hidden], b2 [14].
 */
import { InputError } from '../../errors.ts';
import { OFFSET_STRIDE } from './offsets.ts';

/** Axis pairs of the six planes; axis 3 is time. */
export const PLANE_AXES: readonly [number, number][] = [
  [0, 1],
  [0, 2],
  [1, 2],
  [0, 3],
  [1, 3],
  [2, 3],
];
export const PLANE_NAMES = ['xy', 'xz', 'yz', 'xt', 'yt', 'zt'] as const;
export const MAX_LEVELS = 4;
export const MAX_INPUTS = 64;
export const MAX_HIDDEN = 64;

export interface HexPlaneConfig {
  /** Scene bounds the canonical means are normalised into (clamped outside). */
  boundsMin: [number, number, number];
  boundsMax: [number, number, number];
  /** Time range mapped to the plane's t axis; times outside are clamped. */
  timeRange: [number, number];
  /** Spatial resolution per level (the multires list), e.g. [16, 32]; at most 4 levels. */
  resolutions: number[];
  /** Resolution along t (shared by all levels), e.g. 12. */
  timeResolution: number;
  /** Features per plane and level. */
  features: number;
  /** Width of the MLP's hidden layer. */
  hidden: number;
  /** Optional heads: opacity-logit offset and SH DC colour offset. */
  opacityHead: boolean;
  colorHead: boolean;
  /** Adam learning rates of the planes and of the MLP weights. */
  lrPlanes: number;
  lrMlp: number;
}

export const DEFAULT_HEXPLANE: Omit<HexPlaneConfig, 'boundsMin' | 'boundsMax'> = {
  timeRange: [0, 1],
  resolutions: [16, 32],
  timeResolution: 12,
  features: 8,
  hidden: 32,
  opacityHead: false,
  colorHead: false,
  lrPlanes: 6.4e-3,
  lrMlp: 6.4e-4,
};

export interface HexPlaneLayout {
  levels: number;
  features: number;
  inputs: number;
  hidden: number;
  /** [level][plane] -> [width, height] in texels. */
  planeDims: [number, number][][];
  /** [level * 6 + plane] -> offset in floats into the planes buffer. */
  planeOffsets: number[];
  planeFloats: number;
  w1: number;
  b1: number;
  w2: number;
  b2: number;
  mlpFloats: number;
}

export function validateHexPlaneConfig(c: HexPlaneConfig): void {
  const bad = (field: string, why: string) => {
    throw new InputError(`HexPlane config '${field}' ${why}.`);
  };
  if (!c.resolutions.length || c.resolutions.length > MAX_LEVELS) bad('resolutions', `needs 1 to ${MAX_LEVELS} levels`);
  for (const r of c.resolutions) if (!Number.isInteger(r) || r < 2) bad('resolutions', `has ${r}; each must be an integer >= 2`);
  if (!Number.isInteger(c.timeResolution) || c.timeResolution < 2) bad('timeResolution', 'must be an integer >= 2');
  if (!Number.isInteger(c.features) || c.features < 1) bad('features', 'must be a positive integer');
  if (c.features * c.resolutions.length > MAX_INPUTS) bad('features', `times the level count must be at most ${MAX_INPUTS}`);
  if (!Number.isInteger(c.hidden) || c.hidden < 1 || c.hidden > MAX_HIDDEN) bad('hidden', `must be an integer in 1..${MAX_HIDDEN}`);
  for (let a = 0; a < 3; a++) if (!(c.boundsMax[a] > c.boundsMin[a])) bad('boundsMax', `must exceed boundsMin on axis ${a}`);
  if (!(c.timeRange[1] > c.timeRange[0])) bad('timeRange', 'must be increasing');
}

export function hexPlaneLayout(c: HexPlaneConfig): HexPlaneLayout {
  const planeDims: [number, number][][] = [];
  const planeOffsets: number[] = [];
  let at = 0;
  for (const r of c.resolutions) {
    const dims: [number, number][] = [];
    for (const [a, b] of PLANE_AXES) {
      const w = a === 3 ? c.timeResolution : r;
      const h = b === 3 ? c.timeResolution : r;
      dims.push([w, h]);
      planeOffsets.push(at);
      at += w * h * c.features;
    }
    planeDims.push(dims);
  }
  const inputs = c.features * c.resolutions.length;
  const w1 = 0;
  const b1 = c.hidden * inputs;
  const w2 = b1 + c.hidden;
  const b2 = w2 + OFFSET_STRIDE * c.hidden;
  return {
    levels: c.resolutions.length,
    features: c.features,
    inputs,
    hidden: c.hidden,
    planeDims,
    planeOffsets,
    planeFloats: at,
    w1,
    b1,
    w2,
    b2,
    mlpFloats: b2 + OFFSET_STRIDE,
  };
}

/** Bit mask of the offset channels a HexPlane field drives (1 = opacity head, 2 = colour head). */
export function headMask(c: Pick<HexPlaneConfig, 'opacityHead' | 'colorHead'>): number {
  return (c.opacityHead ? 1 : 0) | (c.colorHead ? 2 : 0);
}
