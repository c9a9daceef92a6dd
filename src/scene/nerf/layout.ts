/**
 * The shape of a radiance field: hash-grid levels (resolutions, which levels index densely)
 * and the packing of the MLP's weights in one f32 buffer. Shared by the GPU field, the
 * kernels' uniform and the TypeScript reference so that all three agree on every offset.
 */
import { InputError } from '../../errors.ts';

export type Vec3 = [number, number, number];

export interface RadianceFieldConfig {
  /** Hash-grid levels (1..16). */
  levels: number;
  /** Features per level (1, 2, 4 or 8); levels * featuresPerLevel <= 64. */
  featuresPerLevel: number;
  /** log2 of the entries per level (instant-ngp's T), 4..22. */
  log2TableSize: number;
  /** Grid resolution of the coarsest and the finest level. */
  baseResolution: number;
  finestResolution: number;
  /** Width of the single hidden layer (ReLU), <= 64. */
  hiddenWidth: number;
  /** Colour depends on the view direction through degree-2 SH of the direction. */
  viewDependent: boolean;
  /** Axis-aligned scene box in world units. */
  bounds: { min: Vec3; max: Vec3 };
  seed: number;
  /** Cells per side of the occupancy grid (default 64). */
  occupancyResolution?: number;
  /** Hash features start uniform in [-featureInit, featureInit] (default 1e-4, instant-ngp). */
  featureInit?: number;
}

export const MAX_LEVELS = 16;
export const MAX_ENCODING = 64;
export const MAX_HIDDEN = 64;
/** Degree-2 SH of the view direction: 9 basis values. */
export const SH_DIRECTION_COUNT = 9;
/** Densities are exp(pre-activation) with the pre-activation clamped here (trunc-exp). */
export const DENSITY_CLAMP = 15;

export interface FieldLayout {
  levels: number;
  features: number;
  tableSize: number;
  /** Grid resolution (cells per side) of each level. */
  resolutions: number[];
  /** Bit l set when level l fits its (res+1)^3 vertices into the table and indexes densely. */
  denseMask: number;
  encodingDim: number;
  hidden: number;
  /** 9 when view dependent, else 0. */
  shCount: number;
  /** Inputs of the colour head: hidden units then SH of the direction. */
  colourInputs: number;
  /** Offsets into the MLP buffer: W1 [hidden][enc] at 0, b1, wSigma [hidden], bSigma, wColour [3][colourInputs], bColour [3]. */
  offsets: { w1: number; b1: number; wSigma: number; bSigma: number; wColour: number; bColour: number };
  mlpCount: number;
  hashCount: number;
  boxMin: Vec3;
  boxMax: Vec3;
}

function checkInt(name: string, v: number, lo: number, hi: number): void {
  if (!Number.isInteger(v) || v < lo || v > hi)
    throw new InputError(`radiance field: '${name}' must be an integer in [${lo}, ${hi}], got ${v}.`);
}

export function fieldLayout(cfg: RadianceFieldConfig): FieldLayout {
  checkInt('levels', cfg.levels, 1, MAX_LEVELS);
  if (![1, 2, 4, 8].includes(cfg.featuresPerLevel))
    throw new InputError(`radiance field: 'featuresPerLevel' must be 1, 2, 4 or 8, got ${cfg.featuresPerLevel}.`);
  if (cfg.levels * cfg.featuresPerLevel > MAX_ENCODING)
    throw new InputError(`radiance field: levels * featuresPerLevel = ${cfg.levels * cfg.featuresPerLevel} exceeds ${MAX_ENCODING}; reduce one of them.`);
  checkInt('log2TableSize', cfg.log2TableSize, 4, 22);
  checkInt('baseResolution', cfg.baseResolution, 1, 1 << 16);
  checkInt('finestResolution', cfg.finestResolution, cfg.baseResolution, 1 << 16);
  checkInt('hiddenWidth', cfg.hiddenWidth, 1, MAX_HIDDEN);
  const { min, max } = cfg.bounds ?? ({} as RadianceFieldConfig['bounds']);
  if (!min || !max || min.length !== 3 || max.length !== 3 || [0, 1, 2].some((i) => !(max[i] > min[i])))
    throw new InputError(`radiance field: 'bounds' must be { min: [x,y,z], max: [x,y,z] } with max > min on every axis.`);
  checkInt('occupancyResolution', cfg.occupancyResolution ?? 64, 1, 256);

  const tableSize = 2 ** cfg.log2TableSize;
  const L = cfg.levels;
  const growth = L > 1 ? Math.exp((Math.log(cfg.finestResolution) - Math.log(cfg.baseResolution)) / (L - 1)) : 1;
  const resolutions: number[] = [];
  let denseMask = 0;
  for (let l = 0; l < L; l++) {
    const r = l === L - 1 ? cfg.finestResolution : Math.max(1, Math.floor(cfg.baseResolution * growth ** l + 1e-9));
    resolutions.push(r);
    if ((r + 1) ** 3 <= tableSize) denseMask |= 1 << l;
  }
  const encodingDim = L * cfg.featuresPerLevel;
  const hidden = cfg.hiddenWidth;
  const shCount = cfg.viewDependent ? SH_DIRECTION_COUNT : 0;
  const colourInputs = hidden + shCount;
  const w1 = 0;
  const b1 = hidden * encodingDim;
  const wSigma = b1 + hidden;
  const bSigma = wSigma + hidden;
  const wColour = bSigma + 1;
  const bColour = wColour + 3 * colourInputs;
  return {
    levels: L,
    features: cfg.featuresPerLevel,
    tableSize,
    resolutions,
    denseMask,
    encodingDim,
    hidden,
    shCount,
    colourInputs,
    offsets: { w1, b1, wSigma, bSigma, wColour, bColour },
    mlpCount: bColour + 3,
    hashCount: L * tableSize * cfg.featuresPerLevel,
    boxMin: [...min] as Vec3,
    boxMax: [...max] as Vec3,
  };
}

/** The field's WGSL uniform (struct FieldParams in shaders/nerf/field.wgsl), 144 bytes. */
export function fieldUniformBytes(l: FieldLayout): ArrayBuffer {
  const buf = new ArrayBuffer(144);
  const f = new Float32Array(buf);
  const u = new Uint32Array(buf);
  f.set(l.boxMin, 0);
  u[3] = l.levels;
  f.set(l.boxMax, 4);
  u[7] = l.features;
  u[8] = l.tableSize;
  u[9] = l.hidden;
  u[10] = l.shCount;
  u[11] = l.encodingDim;
  u[12] = l.offsets.b1;
  u[13] = l.offsets.wSigma;
  u[14] = l.offsets.bSigma;
  u[15] = l.offsets.wColour;
  u[16] = l.offsets.bColour;
  u[17] = l.denseMask;
  u[18] = l.colourInputs;
  u[19] = l.mlpCount;
  for (let i = 0; i < l.levels; i++) u[20 + i] = l.resolutions[i];
  return buf;
}

