/**
 * Pinhole cameras in the OpenCV frame (x right, y down, +z forward), as gsplat uses them:
 * a world-to-camera `viewmat` (row-major 4x4) and intrinsics in pixels. World is +Y up.
 */
import { InputError } from '../errors.ts';

export interface Camera {
  width: number;
  height: number;
  fx: number;
  fy: number;
  cx: number;
  cy: number;
  /** 16 numbers, row-major, world-to-camera. */
  viewmat: Float32Array | number[];
  /** Time in [0, 1] for 4D scenes; 0 for static ones. */
  time?: number;
}

type Vec3 = [number, number, number];

function sub(a: Vec3, b: Vec3): Vec3 {
  return [a[0] - b[0], a[1] - b[1], a[2] - b[2]];
}
function cross(a: Vec3, b: Vec3): Vec3 {
  return [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]];
}
function normalize(a: Vec3): Vec3 {
  const l = Math.hypot(a[0], a[1], a[2]) || 1;
  return [a[0] / l, a[1] / l, a[2] / l];
}
function dot(a: Vec3, b: Vec3): number {
  return a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
}

/** World-to-camera matrix (row-major, OpenCV axes) for a camera at `eye` looking at `target`. */
export function lookAt(eye: Vec3, target: Vec3, up: Vec3 = [0, 1, 0]): Float32Array {
  const z = normalize(sub(target, eye)); // forward
  let x = cross(z, up); // right (OpenCV: x right when y is down)
  if (Math.hypot(...x) < 1e-8) x = cross(z, [0, 0, 1]);
  x = normalize(x);
  const y = cross(z, x); // down
  return new Float32Array([
    x[0], x[1], x[2], -dot(x, eye),
    y[0], y[1], y[2], -dot(y, eye),
    z[0], z[1], z[2], -dot(z, eye),
    0, 0, 0, 1,
  ]);
}

/** Focal length in pixels for a vertical field of view in degrees. */
export function focalFromFov(fovYDegrees: number, height: number): number {
  return (0.5 * height) / Math.tan((0.5 * fovYDegrees * Math.PI) / 180);
}

/** A camera on a sphere around `target`: elevation and azimuth in degrees, +Y up. */
export function orbitCamera(opts: {
  elevation: number;
  azimuth: number;
  radius: number;
  fovY?: number;
  width: number;
  height: number;
  target?: Vec3;
  time?: number;
}): Camera {
  const el = (opts.elevation * Math.PI) / 180;
  const az = (opts.azimuth * Math.PI) / 180;
  const t = opts.target ?? [0, 0, 0];
  const eye: Vec3 = [
    t[0] + opts.radius * Math.cos(el) * Math.sin(az),
    t[1] + opts.radius * Math.sin(el),
    t[2] + opts.radius * Math.cos(el) * Math.cos(az),
  ];
  const f = focalFromFov(opts.fovY ?? 45, opts.height);
  return {
    width: opts.width,
    height: opts.height,
    fx: f,
    fy: f,
    cx: opts.width / 2,
    cy: opts.height / 2,
    viewmat: lookAt(eye, t),
    time: opts.time ?? 0,
  };
}

/** Camera centre in world coordinates: -R^T t. */
export function cameraCenter(cam: Camera): Vec3 {
  const m = cam.viewmat;
  const t: Vec3 = [m[3], m[7], m[11]];
  return [
    -(m[0] * t[0] + m[4] * t[1] + m[8] * t[2]),
    -(m[1] * t[0] + m[5] * t[1] + m[9] * t[2]),
    -(m[2] * t[0] + m[6] * t[1] + m[10] * t[2]),
  ];
}

const CAMERA_FIELDS = ['width', 'height', 'fx', 'fy', 'cx', 'cy'] as const;

/** Validates a parsed cameras.json (a list of cameras); errors name the file, index and field. */
export function parseCameras(json: unknown, file = 'cameras.json'): Camera[] {
  if (!Array.isArray(json)) throw new InputError(`${file}: expected a JSON list of cameras, got ${typeof json}.`);
  if (json.length === 0) throw new InputError(`${file}: the camera list is empty; add at least one camera.`);
  return json.map((c: any, i) => {
    const where = `${file}: camera ${i}`;
    if (typeof c !== 'object' || c === null) throw new InputError(`${where}: expected an object.`);
    for (const f of CAMERA_FIELDS) {
      if (!(f in c)) throw new InputError(`${where}: missing field '${f}'.`);
      if (typeof c[f] !== 'number' || !Number.isFinite(c[f])) throw new InputError(`${where}: field '${f}' must be a finite number.`);
    }
    if (!Number.isInteger(c.width) || !Number.isInteger(c.height) || c.width <= 0 || c.height <= 0)
      throw new InputError(`${where}: 'width' and 'height' must be positive integers.`);
    if (!('viewmat' in c)) throw new InputError(`${where}: missing field 'viewmat' (16 numbers, row-major, world-to-camera).`);
    if (!Array.isArray(c.viewmat) || c.viewmat.length !== 16 || !c.viewmat.every((v: unknown) => typeof v === 'number' && Number.isFinite(v)))
      throw new InputError(`${where}: 'viewmat' must be 16 finite numbers (row-major, world-to-camera).`);
    if ('time' in c && (typeof c.time !== 'number' || !Number.isFinite(c.time)))
      throw new InputError(`${where}: 'time' must be a finite number.`);
    return { width: c.width, height: c.height, fx: c.fx, fy: c.fy, cx: c.cx, cy: c.cy, viewmat: Float32Array.from(c.viewmat), time: c.time ?? 0 };
  });
}
