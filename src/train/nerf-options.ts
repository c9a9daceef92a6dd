/**
 * `representation.options` of a NeRF scene ({"kind": "nerf"}), checked without the GPU:
 * the hash-grid field (src/scene/nerf/layout.ts names), its box (default: a cube of side
 * 3 * init.radius around the camera target), the occupancy-grid schedule, the ray-march step,
 * and what the result is exported as (a mesh GLB by marching cubes, and splats sampled from
 * the density for result.glb/.ply). A NeRF with `representation.dynamic` (4D) takes a HexPlane
 * deformation field whose position head warps each ray sample to the canonical field.
 */
import { InputError } from '../errors.ts';
import { fieldLayout, type RadianceFieldConfig } from '../scene/nerf/layout.ts';
import type { HexPlaneConfig } from '../scene/deform/hexplane-layout.ts';

export interface NerfOptions {
  field: RadianceFieldConfig;
  /** Occupancy-grid update every this many steps (0 = never, the grid stays all occupied). */
  occupancyEvery: number;
  occupancyThreshold: number;
  /** Ray-march step in world units (undefined: the renderer's default, box diagonal / 128). */
  stepSize?: number;
  meshResolution: number;
  isoDensity: number;
  exportSplats: number;
  /** 4D: the deformation field and its schedule (representation.dynamic). */
  dynamic?: NerfDynamicOptions;
}

export interface NerfDynamicOptions {
  deformation: HexPlaneConfig;
  schedule: 'static-then-dynamic' | 'joint';
  staticSteps: number;
  /** Weight of the HexPlane plane total-variation regulariser (0: off). */
  planeTV: number;
  /** Frames (times 0 .. 1) of the exported meshes. */
  frames: number;
}

/** Learning-rate names of the deformation field's blocks (HexPlaneField.params). */
export const NERF_DEFORM_BLOCKS = ['deform.planes', 'deform.mlp'];

/**
 * Checks what of `representation.dynamic` a NeRF can use: a HexPlane field (a per-splat
 * trajectory has no splats to follow here) and the plane-TV regulariser (temporal smoothness
 * and rigidity are defined on splat means). Returns the message of the first problem.
 */
export function nerfDynamicProblem(d: { deformation: string; regularisers: { smoothness: number; rigidity: number } }): string | undefined {
  if (d.deformation !== 'hexplane') return `representation.dynamic.deformation '${d.deformation}' is per splat; a NeRF takes "hexplane"`;
  for (const k of ['smoothness', 'rigidity'] as const)
    if (d.regularisers[k] > 0) return `representation.dynamic.regularisers.${k} acts on splat means; a NeRF takes planeTV only (set ${k} to 0)`;
  return undefined;
}

/** Learning rates of the field's blocks (instant-ngp-like: a fast hash table, a slower MLP). */
export const DEFAULT_NERF_LR = { 'nerf.hash': 1e-2, 'nerf.mlp': 1e-3 };
export const NERF_BLOCKS = Object.keys(DEFAULT_NERF_LR);

const FIELDS = ['levels', 'featuresPerLevel', 'log2TableSize', 'baseResolution', 'finestResolution', 'hiddenWidth', 'viewDependent', 'bounds', 'occupancyResolution', 'featureInit', 'occupancyEvery', 'occupancyThreshold', 'stepSize', 'meshResolution', 'isoDensity', 'exportSplats'];

export function parseNerfOptions(options: Record<string, unknown>, ctx: { radius: number; target: [number, number, number]; seed: number }): NerfOptions {
  for (const key of Object.keys(options))
    if (!FIELDS.includes(key)) throw new InputError(`representation.options.${key} is not a NeRF option; use ${FIELDS.join(', ')}.`);
  const num = (key: string, fallback: number | undefined, ok: (x: number) => boolean, what: string): number => {
    const v = options[key] ?? fallback;
    if (typeof v !== 'number' || !Number.isFinite(v) || !ok(v)) throw new InputError(`representation.options.${key} must be ${what} (got ${JSON.stringify(v)}).`);
    return v;
  };
  const int = (lo: number, hi: number) => (x: number) => Number.isInteger(x) && x >= lo && x <= hi;
  const h = 1.5 * ctx.radius;
  const t = ctx.target;
  const bounds = (options.bounds as RadianceFieldConfig['bounds'] | undefined) ?? { min: [t[0] - h, t[1] - h, t[2] - h], max: [t[0] + h, t[1] + h, t[2] + h] };
  if (options.viewDependent !== undefined && typeof options.viewDependent !== 'boolean') throw new InputError(`representation.options.viewDependent must be true or false.`);
  const field: RadianceFieldConfig = {
    levels: num('levels', 8, int(1, 16), 'an integer in [1, 16]'),
    featuresPerLevel: num('featuresPerLevel', 2, (x) => [1, 2, 4, 8].includes(x), '1, 2, 4 or 8'),
    log2TableSize: num('log2TableSize', 14, int(4, 22), 'an integer in [4, 22]'),
    baseResolution: num('baseResolution', 8, int(1, 1 << 16), 'a positive integer'),
    finestResolution: num('finestResolution', 128, int(1, 1 << 16), 'a positive integer'),
    hiddenWidth: num('hiddenWidth', 32, int(1, 64), 'an integer in [1, 64]'),
    viewDependent: (options.viewDependent as boolean | undefined) ?? false,
    bounds,
    seed: ctx.seed,
    occupancyResolution: num('occupancyResolution', 32, int(2, 256), 'an integer in [2, 256]'),
    featureInit: num('featureInit', 1e-4, (x) => x >= 0, 'a number >= 0'),
  };
  try {
    fieldLayout(field);
  } catch (e) {
    if (e instanceof InputError) throw new InputError(`representation.options: ${e.message}`);
    throw e;
  }
  return {
    field,
    occupancyEvery: num('occupancyEvery', 16, int(0, 1e9), 'an integer >= 0'),
    occupancyThreshold: num('occupancyThreshold', 0.01, (x) => x >= 0, 'a number >= 0'),
    stepSize: options.stepSize === undefined ? undefined : num('stepSize', undefined, (x) => x > 0, 'a number above 0'),
    meshResolution: num('meshResolution', 64, int(8, 512), 'an integer in [8, 512]'),
    isoDensity: num('isoDensity', 5, (x) => x > 0, 'a number above 0'),
    exportSplats: num('exportSplats', 4000, int(1, 1e7), 'a positive integer'),
  };
}
