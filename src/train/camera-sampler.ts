/**
 * Views for each training step: cameras on a sphere around the object with elevation,
 * azimuth, radius and field of view drawn from ranges, azimuth stratified over the batch
 * (each view gets its own slice of the azimuth range, so one batch sees all sides, as
 * threestudio's batch_uniform_azimuth does) and, for 4D, a time per view. Draws come from a
 * generator seeded by (seed, step), so a resumed run samples the same views.
 */
import { orbitCamera, type Camera } from '../math/camera.ts';
import { Rng } from './rng.ts';

export interface CameraRanges {
  /** Degrees above the horizon, [lo, hi]. */
  elevation: [number, number];
  /** Degrees around +Y, [lo, hi]; 0 looks from +Z. */
  azimuth: [number, number];
  radius: [number, number];
  /** Vertical field of view in degrees. */
  fov: [number, number];
  viewsPerStep: number;
  width: number;
  height: number;
  target?: [number, number, number];
  /** 4D: number of discrete times in [0, 1] (0 = static, 1 = only t = 0); views get stratified times. */
  times?: number;
  /**
   * Fixed poses that take the first views of every batch (e.g. the camera of a reference
   * video); radius and field of view are the middles of their ranges.
   */
  anchors?: { elevation: number; azimuth: number }[];
}

/** Stream id that separates camera draws from other per-step random numbers. */
const CAMERA_STREAM = 1;

export interface ViewBatch {
  cameras: Camera[];
  /** Azimuth and elevation of each view in degrees (rewards and priors that use pose read these). */
  poses: { azimuth: number; elevation: number; radius: number; fov: number; time: number }[];
}

export class CameraSampler {
  constructor(
    readonly ranges: CameraRanges,
    readonly seed: number,
  ) {}

  sample(step: number, views = this.ranges.viewsPerStep): ViewBatch {
    const r = this.ranges;
    const rng = Rng.forStep(this.seed, step, CAMERA_STREAM);
    const cameras: Camera[] = [];
    const poses: ViewBatch['poses'] = [];
    const timeCount = r.times ?? 0;
    const timeOffset = rng.next();
    for (let i = 0; i < views; i++) {
      let azimuth = r.azimuth[0] + (r.azimuth[1] - r.azimuth[0]) * ((i + rng.next()) / views);
      let elevation = rng.uniform(r.elevation[0], r.elevation[1]);
      let radius = rng.uniform(r.radius[0], r.radius[1]);
      let fov = rng.uniform(r.fov[0], r.fov[1]);
      const anchor = r.anchors?.[i];
      if (anchor) {
        // Drawn above all the same, so anchors do not shift the other views' random streams.
        ({ azimuth, elevation } = anchor);
        radius = (r.radius[0] + r.radius[1]) / 2;
        fov = (r.fov[0] + r.fov[1]) / 2;
      }
      // Times are stratified too, with one random offset per batch, then snapped to the frame grid.
      const time = timeCount > 1 ? Math.min(Math.floor(((i + timeOffset) / views) * timeCount), timeCount - 1) / (timeCount - 1) : 0;
      cameras.push(orbitCamera({ elevation, azimuth, radius, fovY: fov, width: r.width, height: r.height, target: r.target, time }));
      poses.push({ azimuth, elevation, radius, fov, time });
    }
    return { cameras, poses };
  }
}

/** `frames` views evenly spaced in azimuth at one elevation, for turntables and evaluation. */
export function turntableCameras(opts: {
  frames: number;
  elevation: number;
  radius: number;
  fov: number;
  width: number;
  height: number;
  target?: [number, number, number];
  time?: number | ((frame: number) => number);
}): Camera[] {
  return Array.from({ length: opts.frames }, (_, i) =>
    orbitCamera({
      elevation: opts.elevation,
      azimuth: (360 * i) / opts.frames,
      radius: opts.radius,
      fovY: opts.fov,
      width: opts.width,
      height: opts.height,
      target: opts.target,
      time: typeof opts.time === 'function' ? opts.time(i) : (opts.time ?? 0),
    }),
  );
}
