/**
 * Score priors from the scene config's `prior` object:
 *   { "kind": "onnx", "path": "models/denoiser.onnx", "resolution"?: {width, height},
 *     "embeddings"?: "embeddings.json", schedule fields... }
 *   { "kind": "exemplar", "images": [{ "path": "a.png", "elevation"?: deg, "azimuth"?: deg }],
 *     "smoothing"?: number, "cameraBandwidth"?: degrees, schedule fields... }
 * schedule fields: "betaSchedule": "linear" | "scaled-linear", "betaStart", "betaEnd", "steps".
 * `weight` (the prior weight schedule) belongs to the trainer and is ignored here.
 * `validatePriorConfig` checks everything that needs no model load (types, files exist).
 */
import { existsSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { InputError } from '../errors.ts';
import { ExemplarPrior, type ExemplarFile } from './exemplar-prior.ts';
import { OnnxDenoiser } from './onnx-denoiser.ts';
import type { DdpmScheduleOptions, ScorePrior } from './score-prior.ts';
import { ddpmSchedule } from './score-prior.ts';

const COMMON = ['kind', 'weight', 'betaSchedule', 'betaStart', 'betaEnd', 'steps'];
const FIELDS: Record<string, string[]> = {
  onnx: [...COMMON, 'path', 'resolution', 'embeddings'],
  exemplar: [...COMMON, 'images', 'smoothing', 'cameraBandwidth'],
};

function num(prior: Record<string, unknown>, key: string, check: (x: number) => boolean, what: string): number | undefined {
  const v = prior[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v) || !check(v)) throw new InputError(`prior.${key} must be ${what} (got ${JSON.stringify(v)}).`);
  return v;
}

function scheduleOf(prior: Record<string, unknown>): DdpmScheduleOptions {
  const bs = prior.betaSchedule;
  if (bs !== undefined && bs !== 'linear' && bs !== 'scaled-linear') throw new InputError(`prior.betaSchedule must be 'linear' or 'scaled-linear' (got ${JSON.stringify(bs)}).`);
  const opts: DdpmScheduleOptions = {
    betaSchedule: bs as DdpmScheduleOptions['betaSchedule'],
    betaStart: num(prior, 'betaStart', (x) => x > 0 && x < 1, 'a number in (0, 1)'),
    betaEnd: num(prior, 'betaEnd', (x) => x > 0 && x < 1, 'a number in (0, 1)'),
    steps: num(prior, 'steps', (x) => Number.isInteger(x) && x >= 2, 'an integer >= 2'),
  };
  ddpmSchedule(opts); // throws on inconsistent betas
  return opts;
}

function exemplarFiles(prior: Record<string, unknown>, baseDir: string): ExemplarFile[] {
  const images = prior.images;
  if (!Array.isArray(images) || images.length === 0) throw new InputError(`prior.images must list at least one { "path": "image.png" } for an exemplar prior.`);
  return images.map((e, i) => {
    if (typeof e !== 'object' || e === null || typeof (e as ExemplarFile).path !== 'string')
      throw new InputError(`prior.images[${i}] must be { "path": "image.png", "elevation"?: degrees, "azimuth"?: degrees }.`);
    const f = e as ExemplarFile;
    for (const k of ['elevation', 'azimuth'] as const)
      if (f[k] !== undefined && (typeof f[k] !== 'number' || !Number.isFinite(f[k]))) throw new InputError(`prior.images[${i}].${k} must be a number of degrees.`);
    const full = isAbsolute(f.path) ? f.path : resolve(baseDir, f.path);
    if (!existsSync(full)) throw new InputError(`prior.images[${i}].path '${f.path}' does not exist (looked for ${full}).`);
    return { path: full, elevation: f.elevation, azimuth: f.azimuth };
  });
}

export function validatePriorConfig(prior: Record<string, unknown>, baseDir: string): void {
  const kind = prior.kind;
  if (kind !== 'onnx' && kind !== 'exemplar') throw new InputError(`prior.kind must be 'onnx' or 'exemplar' (got ${JSON.stringify(kind)}).`);
  for (const key of Object.keys(prior))
    if (!FIELDS[kind].includes(key)) throw new InputError(`prior.${key} is not a field of a ${kind} prior; its fields are ${FIELDS[kind].join(', ')}.`);
  scheduleOf(prior);
  if (kind === 'onnx') {
    if (typeof prior.path !== 'string' || !prior.path) throw new InputError(`prior.path must name a local .onnx file.`);
    const full = isAbsolute(prior.path) ? prior.path : resolve(baseDir, prior.path);
    if (!existsSync(full)) throw new InputError(`prior.path '${prior.path}' not found (looked for ${full}); export or download the denoiser there, or use the exemplar prior.`);
    const r = prior.resolution as { width?: unknown; height?: unknown } | undefined;
    if (r !== undefined && !(typeof r === 'object' && Number.isInteger(r.width) && Number.isInteger(r.height) && (r.width as number) > 0 && (r.height as number) > 0))
      throw new InputError(`prior.resolution must be { "width": positive integer, "height": positive integer }.`);
    const emb = prior.embeddings;
    if (emb !== undefined && typeof emb !== 'string' && (typeof emb !== 'object' || emb === null))
      throw new InputError(`prior.embeddings must be a JSON file path or an object of prompt -> numbers.`);
  } else {
    exemplarFiles(prior, baseDir);
    num(prior, 'smoothing', (x) => x >= 0, 'a number >= 0');
    num(prior, 'cameraBandwidth', (x) => x >= 0, 'a number of degrees >= 0');
  }
}

export async function createScorePrior(prior: Record<string, unknown>, baseDir: string): Promise<ScorePrior> {
  validatePriorConfig(prior, baseDir);
  const schedule = scheduleOf(prior);
  if (prior.kind === 'onnx') {
    return OnnxDenoiser.create({
      path: prior.path as string,
      baseDir,
      schedule,
      resolution: prior.resolution as { width: number; height: number } | undefined,
      embeddings: prior.embeddings as string | Record<string, number[]> | undefined,
    });
  }
  return ExemplarPrior.create({
    exemplars: exemplarFiles(prior, baseDir),
    smoothing: prior.smoothing as number | undefined,
    cameraBandwidth: prior.cameraBandwidth as number | undefined,
    schedule,
    baseDir,
  });
}
