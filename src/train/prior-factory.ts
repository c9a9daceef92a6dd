/**
 * The scene config's `prior` for the trainer. File-based priors ({kind: "onnx", path} and
 * {kind: "exemplar", images}) go to src/prior/registry.ts unchanged. An exemplar prior may
 * instead name a `procedural` source, so that a scene runs offline with no image files:
 *   "procedural": { "shape": "cube" | "sphere", "color": [r, g, b], "size": 0.5,
 *                   "views": 8, "elevation": 15, "resolution": 32, "splats": 6 }
 * The exemplars are then this project's own renders (the CPU reference splat renderer) of a
 * solid-coloured shape made of splats, seen from `views` azimuths around the object with the
 * scene's camera radius and field of view, each tagged with its direction for the prior's
 * camera weighting. Everything is checked here before any GPU work.
 */
import { InputError } from '../errors.ts';
import { orbitCamera } from '../math/camera.ts';
import { ExemplarPrior, type Exemplar } from '../prior/exemplar-prior.ts';
import { createScorePrior, validatePriorConfig } from '../prior/registry.ts';
import { ddpmSchedule, type DdpmScheduleOptions, type ScorePrior } from '../prior/score-prior.ts';
import { referenceRender } from '../reference/splat/render.ts';
import { SH_C0, emptyGaussians, type GaussianData } from '../scene/gaussian-data.ts';

export interface ProceduralSource {
  shape: 'cube' | 'sphere';
  color: [number, number, number];
  /** Edge length of the cube or diameter of the sphere, world units. */
  size: number;
  views: number;
  elevation: number;
  /** Exemplar width and height in pixels (the prior's resolution). */
  resolution: number;
  /** Splats along each axis of the shape's grid. */
  splats: number;
}

/** Where the exemplars are seen from: the scene's orbit radius, field of view and target. */
export interface ExemplarCameras {
  radius: number;
  fov: number;
  target: [number, number, number];
  background: [number, number, number];
}

const PROCEDURAL_FIELDS = ['shape', 'color', 'size', 'views', 'elevation', 'resolution', 'splats'];
const EXEMPLAR_FIELDS = ['kind', 'weight', 'betaSchedule', 'betaStart', 'betaEnd', 'steps', 'procedural', 'smoothing', 'cameraBandwidth'];

function fail(field: string, what: string, got: unknown): never {
  throw new InputError(`prior.procedural.${field} must be ${what} (got ${JSON.stringify(got)}).`);
}

/** Parses and checks a procedural source; throws an InputError naming the field. */
export function parseProcedural(raw: unknown): ProceduralSource {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new InputError(`prior.procedural must be an object such as {"shape": "cube", "color": [0.9, 0.1, 0.1]}.`);
  const p = raw as Record<string, unknown>;
  for (const key of Object.keys(p)) if (!PROCEDURAL_FIELDS.includes(key)) throw new InputError(`prior.procedural.${key} is not a field; use ${PROCEDURAL_FIELDS.join(', ')}.`);
  const shape = p.shape ?? 'cube';
  if (shape !== 'cube' && shape !== 'sphere') fail('shape', "'cube' or 'sphere'", shape);
  const color = p.color;
  if (!Array.isArray(color) || color.length !== 3 || !color.every((c) => typeof c === 'number' && c >= 0 && c <= 1)) fail('color', 'three numbers in [0, 1]', color);
  const number = (key: string, fallback: number, ok: (x: number) => boolean, what: string): number => {
    const v = p[key] ?? fallback;
    if (typeof v !== 'number' || !Number.isFinite(v) || !ok(v)) fail(key, what, v);
    return v as number;
  };
  return {
    shape: shape as ProceduralSource['shape'],
    color: color as [number, number, number],
    size: number('size', 0.6, (x) => x > 0, 'a number above 0'),
    views: number('views', 8, (x) => Number.isInteger(x) && x >= 1 && x <= 64, 'an integer in [1, 64]'),
    elevation: number('elevation', 15, (x) => x >= -90 && x <= 90, 'degrees in [-90, 90]'),
    resolution: number('resolution', 32, (x) => Number.isInteger(x) && x >= 4 && x <= 256, 'an integer in [4, 256]'),
    splats: number('splats', 6, (x) => Number.isInteger(x) && x >= 2 && x <= 24, 'an integer in [2, 24]'),
  };
}

/** Checks a prior config (files exist, fields and types) without loading a model. */
export function validateTrainerPrior(prior: Record<string, unknown>, baseDir: string): void {
  if (prior.kind === 'exemplar' && prior.procedural !== undefined) {
    if (prior.images !== undefined) throw new InputError(`prior: give either 'images' or 'procedural' for an exemplar prior, not both.`);
    for (const key of Object.keys(prior))
      if (!EXEMPLAR_FIELDS.includes(key)) throw new InputError(`prior.${key} is not a field of a procedural exemplar prior; its fields are ${EXEMPLAR_FIELDS.join(', ')}.`);
    parseProcedural(prior.procedural);
    for (const key of ['smoothing', 'cameraBandwidth'])
      if (prior[key] !== undefined && !(typeof prior[key] === 'number' && (prior[key] as number) >= 0)) throw new InputError(`prior.${key} must be a number >= 0 (got ${JSON.stringify(prior[key])}).`);
    ddpmSchedule(scheduleFields(prior));
    return;
  }
  validatePriorConfig(prior, baseDir);
}

function scheduleFields(prior: Record<string, unknown>): DdpmScheduleOptions {
  const { betaSchedule, betaStart, betaEnd, steps } = prior as DdpmScheduleOptions;
  return { betaSchedule, betaStart, betaEnd, steps };
}

/** Splats on a grid filling the shape: opaque, touching, one colour. */
export function proceduralSplats(src: ProceduralSource, target: [number, number, number]): GaussianData {
  const n = src.splats;
  const step = src.size / n;
  const cells: [number, number, number][] = [];
  for (let i = 0; i < n; i++)
    for (let j = 0; j < n; j++)
      for (let k = 0; k < n; k++) {
        const p: [number, number, number] = [((i + 0.5) / n - 0.5) * src.size, ((j + 0.5) / n - 0.5) * src.size, ((k + 0.5) / n - 0.5) * src.size];
        if (src.shape === 'sphere' && Math.hypot(...p) > src.size / 2) continue;
        cells.push(p);
      }
  const data = emptyGaussians(cells.length, 0);
  const logScale = Math.log(step * 0.7);
  cells.forEach((p, s) => {
    for (let a = 0; a < 3; a++) {
      data.means[s * 3 + a] = p[a] + target[a];
      data.logScales[s * 3 + a] = logScale;
      data.sh[s * 3 + a] = (src.color[a] - 0.5) / SH_C0;
    }
    data.quats[s * 4] = 1;
    data.opacityLogits[s] = 4; // sigmoid(4) = 0.98
  });
  return data;
}

/** The procedural exemplars: reference renders of the shape from evenly spaced azimuths. */
export function proceduralExemplars(src: ProceduralSource, cams: ExemplarCameras): Exemplar[] {
  const data = proceduralSplats(src, cams.target);
  const out: Exemplar[] = [];
  for (let v = 0; v < src.views; v++) {
    const azimuth = (360 * v) / src.views;
    const camera = orbitCamera({ elevation: src.elevation, azimuth, radius: cams.radius, fovY: cams.fov, width: src.resolution, height: src.resolution, target: cams.target });
    const img = referenceRender(data, [camera], { background: cams.background });
    const el = (src.elevation * Math.PI) / 180;
    const az = (azimuth * Math.PI) / 180;
    out.push({
      width: src.resolution,
      height: src.resolution,
      rgb: Float32Array.from(img.rgb, (c) => Math.min(1, Math.max(0, c))),
      direction: [Math.cos(el) * Math.sin(az), Math.sin(el), Math.cos(el) * Math.cos(az)],
    });
  }
  return out;
}

/** Builds the score prior a scene config asks for (validated again here; no GPU needed). */
export async function createTrainerPrior(prior: Record<string, unknown>, baseDir: string, cams: ExemplarCameras): Promise<ScorePrior> {
  validateTrainerPrior(prior, baseDir);
  if (prior.kind === 'exemplar' && prior.procedural !== undefined) {
    return ExemplarPrior.create({
      exemplars: proceduralExemplars(parseProcedural(prior.procedural), cams),
      smoothing: prior.smoothing as number | undefined,
      cameraBandwidth: prior.cameraBandwidth as number | undefined,
      schedule: scheduleFields(prior),
    });
  }
  return createScorePrior(prior, baseDir);
}
