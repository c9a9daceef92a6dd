/**
 * `reference-video`: agreement with a video of a moving procedural object seen from one
 * reference camera, the offline way to drive motion in a 4D scene. The "video" is rendered
 * on demand by the CPU ray caster at each view's exact time, so any time the trainer samples
 * has a frame. Only views taken from the reference direction are scored; every other view
 * scores 0 here and is left to the other rewards (give the scene a camera anchor at the
 * reference pose so each batch contains one).
 *
 *   score_v = -(rgbWeight * mean_pc (rgb - ref)^2 + alphaWeight * mean_p (alpha - ref_alpha)^2)
 *
 * with ref = analytic colour + (1 - ref_alpha) * background; differentiable in rgb and alpha.
 */
import type { Gpu } from '../gpu/gpu.ts';
import { cameraCenter, type Camera } from '../math/camera.ts';
import { renderAnalytic, type Primitive } from '../reference/rewards/analytic-scenes.ts';
import type { RewardNeeds, RewardPlugin, RewardScore, RewardViews } from './plugin.ts';
import { validateOptions } from './registry.ts';

const vec3 = { type: 'array', items: { type: 'number' }, minItems: 3, maxItems: 3 } as const;

export const optionsSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['camera'],
  properties: {
    object: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        shape: { enum: ['box', 'sphere'], default: 'box' },
        color: { ...vec3, default: [0.9, 0.1, 0.08] },
        /** Half extent of the box, or the sphere's radius. */
        size: { type: 'number', exclusiveMinimum: 0, default: 0.35 },
      },
    },
    motion: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        /** bounce: up and down along +Y; slide: along X; orbit: a circle in the XZ plane. */
        kind: { enum: ['bounce', 'slide', 'orbit'], default: 'bounce' },
        amplitude: { type: 'number', minimum: 0, default: 0.4 },
        /** Periods over the time range [0, 1]. */
        cycles: { type: 'number', exclusiveMinimum: 0, default: 1 },
      },
    },
    /** The reference camera's direction (degrees, as the scene's camera ranges). */
    camera: {
      type: 'object',
      additionalProperties: false,
      required: ['elevation', 'azimuth'],
      properties: { elevation: { type: 'number', minimum: -90, maximum: 90 }, azimuth: { type: 'number' } },
    },
    /** How far (degrees) a view's direction may be from the reference and still be scored. */
    toleranceDegrees: { type: 'number', exclusiveMinimum: 0, default: 1 },
    background: { ...vec3, default: [1, 1, 1] },
    rgbWeight: { type: 'number', minimum: 0, default: 1 },
    alphaWeight: { type: 'number', minimum: 0, default: 1 },
  },
};

interface Options {
  object: { shape: 'box' | 'sphere'; color: [number, number, number]; size: number };
  motion: { kind: 'bounce' | 'slide' | 'orbit'; amplitude: number; cycles: number };
  camera: { elevation: number; azimuth: number };
  toleranceDegrees: number;
  background: [number, number, number];
  rgbWeight: number;
  alphaWeight: number;
}

/** Centre of the moving object at time t in [0, 1]. */
export function objectCenter(motion: Options['motion'], t: number): [number, number, number] {
  const phase = 2 * Math.PI * motion.cycles * t;
  const a = motion.amplitude;
  if (motion.kind === 'bounce') return [0, a * Math.sin(phase), 0];
  if (motion.kind === 'slide') return [a * Math.sin(phase), 0, 0];
  return [a * Math.sin(phase), 0, a * (Math.cos(phase) - 1)];
}

/** Unit vector from the target towards a camera at (elevation, azimuth), as orbitCamera places it. */
function poseDirection(elevation: number, azimuth: number): [number, number, number] {
  const el = (elevation * Math.PI) / 180;
  const az = (azimuth * Math.PI) / 180;
  return [Math.cos(el) * Math.sin(az), Math.sin(el), Math.cos(el) * Math.cos(az)];
}

function viewDirection(cam: Camera): [number, number, number] {
  const c = cameraCenter(cam);
  const l = Math.hypot(c[0], c[1], c[2]) || 1;
  return [c[0] / l, c[1] / l, c[2] / l];
}

/** The reference frame (rgb over the background, alpha) for one camera and time. */
export function referenceFrame(o: Options, cam: Camera, time: number): { rgb: Float32Array; alpha: Float32Array } {
  const s = o.object.size;
  const prim: Primitive = { kind: o.object.shape, center: objectCenter(o.motion, time), size: [s, s, s], paint: o.object.color };
  const f = renderAnalytic([prim], [cam]);
  for (let p = 0; p < f.alpha.length; p++) for (let c = 0; c < 3; c++) f.rgb[p * 3 + c] += (1 - f.alpha[p]) * o.background[c];
  return { rgb: f.rgb, alpha: f.alpha };
}

/** Scores and gradients of sum_v score_v for views already read back (CPU, f64 sums). */
export function videoScores(o: Options, views: { cameras: Camera[]; times: number[]; width: number; height: number }, rgb: Float32Array, alpha: Float32Array) {
  const V = views.cameras.length;
  const P = views.width * views.height;
  const ref = poseDirection(o.camera.elevation, o.camera.azimuth);
  const cosTol = Math.cos((o.toleranceDegrees * Math.PI) / 180);
  const scores = new Float64Array(V);
  const dRgb = new Float32Array(V * P * 3);
  const dAlpha = new Float32Array(V * P);
  let matched = 0;
  for (let v = 0; v < V; v++) {
    const d = viewDirection(views.cameras[v]);
    if (d[0] * ref[0] + d[1] * ref[1] + d[2] * ref[2] < cosTol) continue;
    matched++;
    const frame = referenceFrame(o, views.cameras[v], views.times[v] ?? 0);
    let se = 0;
    let ae = 0;
    for (let p = 0; p < P; p++) {
      for (let c = 0; c < 3; c++) {
        const e = rgb[(v * P + p) * 3 + c] - frame.rgb[p * 3 + c];
        se += e * e;
        dRgb[(v * P + p) * 3 + c] = (-2 * o.rgbWeight * e) / (3 * P);
      }
      const e = alpha[v * P + p] - frame.alpha[p];
      ae += e * e;
      dAlpha[v * P + p] = (-2 * o.alphaWeight * e) / P;
    }
    scores[v] = -((o.rgbWeight * se) / (3 * P) + (o.alphaWeight * ae) / P);
  }
  return { scores, dRgb, dAlpha, matched };
}

export class ReferenceVideoReward implements RewardPlugin {
  readonly name = 'reference-video';
  readonly differentiable = true;
  /** Reads rgb and alpha only. */
  readonly needs: RewardNeeds = { normal: false };
  constructor(private readonly o: Options) {}

  async score(views: RewardViews, gpu: Gpu): Promise<RewardScore> {
    const P = views.width * views.height;
    const [rgb, alpha] = await Promise.all([gpu.readF32(views.rgb, views.views * P * 3), gpu.readF32(views.alpha, views.views * P)]);
    const r = videoScores(this.o, views, rgb, alpha);
    const warnings = r.matched === 0 ? ['no view of this batch looks from the reference camera; add it to cameras.anchors'] : [];
    return {
      scores: Float32Array.from(r.scores),
      grads: { rgb: gpu.upload('reference-video.drgb', r.dRgb), alpha: gpu.upload('reference-video.dalpha', r.dAlpha) },
      details: { matchedViews: r.matched },
      warnings,
    };
  }
}

export default function createReferenceVideoReward(options: Record<string, unknown>): RewardPlugin {
  return new ReferenceVideoReward(validateOptions('reference-video', optionsSchema, options) as unknown as Options);
}
