/**
 * Scene configs: read, validate against the schema, fill defaults, and make every check that
 * can fail before the GPU is touched (names and option types of algorithms and rewards, a
 * prompt for text rewards, prior model files). Every error names the file and the field path.
 */
import { readFileSync, existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import AjvModule, { type ErrorObject } from 'ajv';
import { InputError } from '../errors.ts';
import { sceneSchema } from './config-schema.ts';
import { checkSchedule, type Schedule, type TimestepSchedule } from './schedules.ts';
import type { CameraRanges } from './camera-sampler.ts';
import { TIMESTEP_ALGORITHMS, withTimestepOptions } from './timestep-options.ts';
import { parseDeformationOptions, type DeformationOptions } from './dynamic-options.ts';
import type { DeformRegulariserWeights } from './dynamic-representation.ts';
import type { HexPlaneConfig } from '../scene/deform/hexplane-layout.ts';
import { DEFAULT_NERF_LR, NERF_BLOCKS, NERF_DEFORM_BLOCKS, nerfDynamicProblem, parseNerfOptions, type NerfOptions } from './nerf-options.ts';

export interface RewardComponentConfig {
  name?: string;
  module?: string;
  /** A constant or a schedule over the steps. */
  weight?: Schedule;
  options?: Record<string, unknown>;
}

export interface DensifyConfig {
  strategy: 'default' | 'mcmc' | 'none';
  start: number;
  stop: number;
  every: number;
  pruneOpacity: number;
  growGrad2d: number;
  growScale3d: number;
  pruneScale3d: number;
  resetEvery: number;
  absgrad: boolean;
  maxSplats: number;
  capMax: number;
  growFactor: number;
  minOpacity: number;
  noiseLr: number;
  opacityReg: number;
  scaleReg: number;
}

export interface SceneConfig {
  /** Absolute path of the file, or '<inline>'. */
  file: string;
  /** Folder relative paths in the config resolve against. */
  baseDir: string;
  name: string;
  prompt: string;
  seed: number;
  representation: {
    kind: 'splats' | 'nerf';
    init: { kind: 'sphere'; count: number; radius: number; shDegree: number; opacity: number; scale: number };
    options: Record<string, unknown>;
    background: [number, number, number];
    /** [near, far] of the depth-distortion mapping, when the config sets one. */
    distortionRange?: [number, number];
    /** The parsed NeRF options (kind "nerf"). */
    nerf?: NerfOptions;
    /** The parsed deformation field options (splats with "dynamic"). */
    deformation?: DeformationOptions;
    dynamic?: {
      deformation: 'hexplane' | 'trajectory';
      options: Record<string, unknown>;
      times: number;
      schedule: 'static-then-dynamic' | 'joint';
      staticSteps: number;
      regularisers: DeformRegulariserWeights;
    };
  };
  rewards: { components: RewardComponentConfig[]; normalize?: unknown; aggregate?: unknown };
  algorithm: { name: string; options: Record<string, unknown> };
  prior?: { kind: 'onnx' | 'exemplar'; weight?: Schedule; [key: string]: unknown };
  schedule: {
    steps: number;
    lr: Record<string, Schedule>;
    timestep?: TimestepSchedule;
  };
  cameras: Required<Omit<CameraRanges, 'times' | 'target'>> & { target: [number, number, number] };
  densify: DensifyConfig;
  output: {
    checkpointEvery: number;
    logEvery: number;
    turntable: { frames: number; size: number; elevation: number; gif: boolean };
  };
}

/** Learning rates of the splat blocks, tuned for short generation runs (DreamGaussian-like). */
export const DEFAULT_SPLAT_LR: Record<string, Schedule> = {
  means: { kind: 'exponential', from: 2e-3, to: 2e-4 },
  logScales: 5e-3,
  quats: 1e-3,
  opacityLogits: 2.5e-2,
  sh: 1e-2,
};
export const SPLAT_BLOCKS = Object.keys(DEFAULT_SPLAT_LR);

const DEFAULT_DENSIFY: DensifyConfig = {
  strategy: 'none',
  start: 50,
  stop: 1_000_000,
  every: 50,
  pruneOpacity: 0.005,
  growGrad2d: 0.0002,
  growScale3d: 0.01,
  pruneScale3d: 0.1,
  resetEvery: 0,
  absgrad: false,
  maxSplats: 200_000,
  capMax: 20_000,
  growFactor: 1.05,
  minOpacity: 0.005,
  noiseLr: 5e5,
  opacityReg: 0.01,
  scaleReg: 0.01,
};

/** Command-line overrides applied after validation. */
export interface ConfigOverrides {
  steps?: number;
  seed?: number;
}

/** Registries the semantic checks consult; passed in so that config.ts loads no GPU code. */
export interface ConfigValidators {
  algorithmNames: readonly string[];
  validateAlgorithmOptions(name: string, options: Record<string, unknown>): void;
  rewardNames: readonly string[];
  validateRewardOptions?(name: string, options: Record<string, unknown>): void | Promise<void>;
  /** Whether a built-in reward reads the prompt (so an empty prompt is an error). */
  rewardNeedsPrompt?(name: string): boolean;
  validatePrior?(prior: Record<string, unknown>, baseDir: string): void | Promise<void>;
}

const Ajv = (AjvModule as unknown as { default?: typeof AjvModule }).default ?? AjvModule;
const ajv = new Ajv({ allErrors: true, strict: false });
const validateSchema = ajv.compile(sceneSchema);

function fieldPath(instancePath: string): string {
  return instancePath
    .split('/')
    .slice(1)
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce((acc, p) => (/^\d+$/.test(p) ? `${acc}[${p}]` : acc ? `${acc}.${p}` : p), '');
}

/** Turns the most specific ajv error into one sentence naming the field. */
function describeSchemaError(errors: ErrorObject[]): string {
  // Prefer the deepest path; among equals, prefer concrete errors over oneOf summaries.
  const rank = (e: ErrorObject) => e.instancePath.split('/').length * 10 + (e.keyword === 'oneOf' || e.keyword === 'if' ? 0 : 1);
  const e = [...errors].sort((a, b) => rank(b) - rank(a))[0];
  const at = fieldPath(e.instancePath);
  const join = (child: string) => (at ? `${at}.${child}` : child);
  switch (e.keyword) {
    case 'required':
      return `missing field '${join((e.params as { missingProperty: string }).missingProperty)}'`;
    case 'additionalProperties':
      return `unknown field '${join((e.params as { additionalProperty: string }).additionalProperty)}' (check its spelling)`;
    case 'enum':
      return `${at} must be one of ${(e.params as { allowedValues: unknown[] }).allowedValues.map((v) => JSON.stringify(v)).join(', ')}`;
    case 'const':
      return `${at} must be ${JSON.stringify((e.params as { allowedValue: unknown }).allowedValue)}`;
    case 'oneOf':
      if (/rewards\.components\[\d+\]$/.test(at)) return `${at} needs exactly one of 'name' (a built-in reward) or 'module' (a plugin file)`;
      return `${at} is not a valid value here (a number or a schedule object {kind, ...})`;
    default:
      return `${at || 'the config'} ${e.message}`;
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Reads and validates a scene file. Throws InputError naming the file and field. */
export async function loadSceneConfig(path: string, validators: ConfigValidators, overrides: ConfigOverrides = {}): Promise<SceneConfig> {
  const file = resolve(path);
  if (!existsSync(file)) throw new InputError(`scene config '${path}' does not exist; pass a path to a scenes/*.json file.`);
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new InputError(`${path}: not valid JSON (${(e as Error).message}).`);
  }
  return parseSceneConfig(json, validators, { file: path, baseDir: dirname(file), overrides });
}

/** Validates an already parsed config. `file` is used in messages, `baseDir` for relative paths. */
export async function parseSceneConfig(
  json: unknown,
  validators: ConfigValidators,
  where: { file?: string; baseDir?: string; overrides?: ConfigOverrides } = {},
): Promise<SceneConfig> {
  const file = where.file ?? '<inline>';
  const fail = (msg: string): never => {
    throw new InputError(`${file}: ${msg}.`);
  };
  if (!isObject(json)) fail('the config must be a JSON object');
  if (!validateSchema(json)) fail(describeSchemaError(validateSchema.errors ?? []));
  const raw = json as Record<string, any>;
  const baseDir = where.baseDir ?? process.cwd();
  const overrides = where.overrides ?? {};
  if (overrides.steps !== undefined && !(Number.isInteger(overrides.steps) && overrides.steps > 0))
    throw new InputError(`--steps must be a positive integer, got ${overrides.steps}.`);
  if (overrides.seed !== undefined && !(Number.isInteger(overrides.seed) && overrides.seed >= 0))
    throw new InputError(`--seed must be a non-negative integer, got ${overrides.seed}.`);

  const rep = raw.representation;
  const init = { kind: 'sphere' as const, count: 2000, radius: 0.5, shDegree: 0, opacity: 0.1, scale: 0, ...rep.init };
  if (!init.scale) init.scale = init.radius * 1.2 * Math.cbrt(1 / init.count); // about the mean spacing
  const cams = raw.cameras;
  const cameras: SceneConfig['cameras'] = {
    elevation: cams.elevation ?? [-10, 40],
    azimuth: cams.azimuth ?? [-180, 180],
    radius: cams.radius ?? [2.5, 2.5],
    fov: cams.fov ?? [40, 40],
    viewsPerStep: cams.viewsPerStep ?? 4,
    width: cams.width,
    height: cams.height,
    target: cams.target ?? [0, 0, 0],
    anchors: cams.anchors ?? [],
  };
  if (cameras.anchors.length > cameras.viewsPerStep)
    fail(`cameras.anchors: ${cameras.anchors.length} anchors do not fit in cameras.viewsPerStep = ${cameras.viewsPerStep}`);
  for (const key of ['elevation', 'azimuth', 'radius', 'fov'] as const)
    if (cameras[key][1] < cameras[key][0]) fail(`cameras.${key}: the range [${cameras[key]}] must be [low, high]`);
  if (rep.distortionRange && !(rep.distortionRange[0] < rep.distortionRange[1]))
    fail(`representation.distortionRange: [${rep.distortionRange}] must be [near, far] with near < far (scene depths in world units)`);

  const config: SceneConfig = {
    file,
    baseDir,
    name: raw.name ?? file.replace(/^.*\//, '').replace(/\.json$/, ''),
    prompt: raw.prompt,
    seed: overrides.seed ?? raw.seed ?? 0,
    representation: {
      kind: rep.kind,
      init,
      options: rep.options ?? {},
      background: rep.background ?? [1, 1, 1],
      ...(rep.distortionRange ? { distortionRange: rep.distortionRange as [number, number] } : {}),
      dynamic: rep.dynamic && {
        deformation: rep.dynamic.deformation,
        options: rep.dynamic.options ?? {},
        times: rep.dynamic.times ?? 8,
        schedule: rep.dynamic.schedule ?? 'joint',
        staticSteps: rep.dynamic.staticSteps ?? 0,
        regularisers: { smoothness: 0, planeTV: 0, rigidity: 0, rigidityNeighbours: 8, ...rep.dynamic.regularisers },
      },
    },
    rewards: raw.rewards,
    algorithm: { name: raw.algorithm.name, options: raw.algorithm.options ?? {} },
    prior: raw.prior,
    schedule: {
      steps: overrides.steps ?? raw.schedule.steps,
      lr: { ...(rep.kind === 'splats' ? DEFAULT_SPLAT_LR : DEFAULT_NERF_LR), ...(raw.schedule.lr ?? {}) },
      timestep: raw.schedule.timestep,
    },
    cameras,
    densify: { ...DEFAULT_DENSIFY, ...(raw.densify ?? {}) },
    output: {
      checkpointEvery: raw.output?.checkpointEvery ?? 100,
      logEvery: raw.output?.logEvery ?? 10,
      turntable: { frames: 24, size: 128, elevation: 15, gif: true, ...(raw.output?.turntable ?? {}) },
    },
  };

  // Checks the schema cannot express.
  for (const [name, s] of Object.entries(config.schedule.lr)) checkSchedule(s, `${file}: schedule.lr.${name}`);
  config.rewards.components.forEach((c, i) => c.weight !== undefined && checkSchedule(c.weight, `${file}: rewards.components[${i}].weight`));
  if (config.schedule.timestep) {
    checkSchedule(config.schedule.timestep.min, `${file}: schedule.timestep.min`);
    checkSchedule(config.schedule.timestep.max, `${file}: schedule.timestep.max`);
  }
  if (rep.kind === 'splats' && !rep.dynamic) {
    for (const name of Object.keys(raw.schedule.lr ?? {}))
      if (!SPLAT_BLOCKS.includes(name)) fail(`schedule.lr.${name}: no such parameter block; splats have ${SPLAT_BLOCKS.join(', ')}`);
  }
  if (rep.kind === 'nerf') {
    const blocks = rep.dynamic ? [...NERF_BLOCKS, ...NERF_DEFORM_BLOCKS] : NERF_BLOCKS;
    for (const name of Object.keys(raw.schedule.lr ?? {}))
      if (!blocks.includes(name)) fail(`schedule.lr.${name}: no such parameter block; a NeRF has ${blocks.join(', ')}`);
    try {
      config.representation.nerf = parseNerfOptions(config.representation.options, { radius: init.radius, target: cameras.target, seed: config.seed });
    } catch (e) {
      throw prefixed(e, file, 'representation.options');
    }
    const d = config.representation.dynamic;
    if (d) {
      // 4D NeRF: ray samples warped by a HexPlane field (src/train/nerf-options.ts).
      const problem = nerfDynamicProblem(d);
      if (problem) fail(problem);
      if (d.schedule === 'static-then-dynamic' && !(d.staticSteps > 0 && d.staticSteps < config.schedule.steps))
        fail(`representation.dynamic.staticSteps (${d.staticSteps}) must be within the run (1 .. ${config.schedule.steps - 1}) for the static-then-dynamic schedule`);
      let hex;
      try {
        hex = parseDeformationOptions('hexplane', d.options, { radius: init.radius, target: cameras.target });
      } catch (e) {
        throw prefixed(e, file, 'representation.dynamic.options');
      }
      config.representation.nerf.dynamic = { deformation: hex.config as HexPlaneConfig, schedule: d.schedule, staticSteps: d.staticSteps, planeTV: d.regularisers.planeTV, frames: Math.max(2, Math.min(d.times, 16)) };
    }
  }
  if (rep.kind === 'splats' && rep.dynamic) {
    try {
      config.representation.deformation = parseDeformationOptions(rep.dynamic.deformation, config.representation.dynamic!.options, { radius: init.radius, target: cameras.target });
    } catch (e) {
      throw prefixed(e, file, 'representation.dynamic.options');
    }
    if (config.densify.strategy !== 'none') fail(`densify.strategy '${config.densify.strategy}' does not apply to 4D splats (the field is laid out per canonical splat); use "none"`);
    const d = config.representation.dynamic!;
    if (d.regularisers.planeTV > 0 && d.deformation !== 'hexplane')
      fail(`representation.dynamic.regularisers.planeTV applies to a hexplane field only (this one is ${d.deformation})`);
    if (d.schedule === 'static-then-dynamic' && !(d.staticSteps > 0 && d.staticSteps < config.schedule.steps))
      fail(`representation.dynamic.staticSteps (${d.staticSteps}) must be within the run (1 .. ${config.schedule.steps - 1}) for the static-then-dynamic schedule`);
  }
  if (config.densify.strategy !== 'none' && rep.kind !== 'splats') fail(`densify.strategy '${config.densify.strategy}' applies to splats only; use "none" for ${rep.kind}`);
  if (config.densify.stop < config.densify.start) fail(`densify.stop (${config.densify.stop}) must not be before densify.start (${config.densify.start})`);

  // Algorithm: name, then option types (the registry's own messages name the option).
  const { algorithmNames } = validators;
  if (!algorithmNames.includes(config.algorithm.name))
    fail(`algorithm.name '${config.algorithm.name}' is unknown; use one of ${algorithmNames.join(', ')}`);
  try {
    // The timestep schedule becomes the score-distillation options that anneal t.
    config.algorithm.options = withTimestepOptions(config.algorithm.name, config.algorithm.options, config.schedule.timestep, config.schedule.steps);
  } catch (e) {
    throw prefixed(e, file, 'schedule.timestep');
  }
  try {
    validators.validateAlgorithmOptions(config.algorithm.name, config.algorithm.options);
  } catch (e) {
    throw prefixed(e, file, 'algorithm.options');
  }
  if (TIMESTEP_ALGORITHMS.includes(config.algorithm.name) && !config.prior)
    fail(`algorithm '${config.algorithm.name}' needs a score prior: add "prior": {"kind": "exemplar", "images" or "procedural": ...} or {"kind": "onnx", "path": ...}`);

  // Rewards: names (plugins by module path must exist), options, prompt.
  for (const [i, c] of config.rewards.components.entries()) {
    const at = `rewards.components[${i}]`;
    if (c.module !== undefined) {
      const modulePath = resolve(baseDir, c.module);
      if (!existsSync(modulePath)) fail(`${at}.module '${c.module}' does not exist (looked for ${modulePath})`);
      continue;
    }
    const name = c.name!;
    if (!validators.rewardNames.includes(name)) fail(`${at}.name '${name}' is unknown; use one of ${validators.rewardNames.join(', ')} or give a 'module' path`);
    try {
      await validators.validateRewardOptions?.(name, c.options ?? {});
    } catch (e) {
      throw prefixed(e, file, `${at}.options`);
    }
    if (validators.rewardNeedsPrompt?.(name) && config.prompt.trim() === '')
      fail(`prompt is empty, but the reward '${name}' (${at}) scores images against it; write a prompt`);
  }

  // Prior: model files must exist now, not after the GPU has started.
  if (config.prior) {
    if (config.prior.weight !== undefined) checkSchedule(config.prior.weight, `${file}: prior.weight`);
    if (config.prior.kind === 'onnx') {
      const p = config.prior.path;
      if (typeof p !== 'string' || p === '') fail(`prior.path is required for an onnx prior (a local .onnx file)`);
      const full = resolve(baseDir, p as string);
      if (!existsSync(full)) fail(`prior.path '${p}' does not exist (looked for ${full}); download or build the model first, or use {"kind": "exemplar"}`);
    }
    try {
      await validators.validatePrior?.(config.prior, baseDir);
    } catch (e) {
      throw prefixed(e, file, 'prior');
    }
  }
  return config;
}

/** Re-throws a registry's InputError with the file and field path in front. */
function prefixed(e: unknown, file: string, field: string): Error {
  if (!(e instanceof InputError)) return e as Error;
  const msg = e.message.replace(/\.$/, '');
  return new InputError(msg.startsWith(field) || msg.includes(`${field}.`) ? `${file}: ${msg}.` : `${file}: ${field}: ${msg}.`);
}
