/**
 * `representation.dynamic` (4D splats) checked without the GPU: the deformation field's
 * options (HexPlane: src/scene/deform/hexplane-layout.ts names, bounds default to a cube of
 * side 3 * init.radius around the target; trajectory: timeRange, degree, frequencies,
 * rotation, lr) and the static-then-dynamic schedule.
 */
import { InputError } from '../errors.ts';
import { DEFAULT_HEXPLANE, validateHexPlaneConfig, type HexPlaneConfig } from '../scene/deform/hexplane-layout.ts';
import { DEFAULT_TRAJECTORY } from '../scene/deform/trajectory-field.ts';
import type { TrajectoryConfig } from '../scene/deform/deformation-field.ts';

export type DeformationOptions = { kind: 'hexplane'; config: HexPlaneConfig } | { kind: 'trajectory'; config: TrajectoryConfig };

const HEXPLANE_FIELDS = ['boundsMin', 'boundsMax', ...Object.keys(DEFAULT_HEXPLANE)];
const TRAJECTORY_FIELDS = Object.keys(DEFAULT_TRAJECTORY);

export function parseDeformationOptions(
  kind: 'hexplane' | 'trajectory',
  options: Record<string, unknown>,
  ctx: { radius: number; target: [number, number, number] },
): DeformationOptions {
  const fields = kind === 'hexplane' ? HEXPLANE_FIELDS : TRAJECTORY_FIELDS;
  for (const key of Object.keys(options))
    if (!fields.includes(key)) throw new InputError(`representation.dynamic.options.${key} is not an option of a ${kind} field; use ${fields.join(', ')}.`);
  try {
    if (kind === 'hexplane') {
      const h = 1.5 * ctx.radius;
      const t = ctx.target;
      const config = { ...DEFAULT_HEXPLANE, boundsMin: [t[0] - h, t[1] - h, t[2] - h], boundsMax: [t[0] + h, t[1] + h, t[2] + h], ...options } as HexPlaneConfig;
      validateHexPlaneConfig(config);
      return { kind, config };
    }
    const config = { ...DEFAULT_TRAJECTORY, ...options } as TrajectoryConfig;
    const int = (x: unknown, lo: number, hi: number) => Number.isInteger(x) && (x as number) >= lo && (x as number) <= hi;
    if (!int(config.degree, 0, 8)) throw new InputError(`degree must be an integer in [0, 8] (got ${JSON.stringify(config.degree)})`);
    if (!int(config.frequencies, 0, 8)) throw new InputError(`frequencies must be an integer in [0, 8] (got ${JSON.stringify(config.frequencies)})`);
    if (config.degree + config.frequencies === 0) throw new InputError(`degree and frequencies cannot both be 0 (the field could not move)`);
    if (typeof config.rotation !== 'boolean') throw new InputError(`rotation must be true or false`);
    if (!(typeof config.lr === 'number' && config.lr >= 0)) throw new InputError(`lr must be a number >= 0`);
    const tr = config.timeRange;
    if (!Array.isArray(tr) || tr.length !== 2 || !(tr[1] > tr[0])) throw new InputError(`timeRange must be [start, end] with end > start`);
    return { kind, config };
  } catch (e) {
    if (e instanceof InputError) throw new InputError(`representation.dynamic.options: ${e.message.replace(/\.$/, '')}.`);
    throw e;
  }
}
