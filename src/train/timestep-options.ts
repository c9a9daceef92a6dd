/**
 * The config's `schedule.timestep` ({min, max}, each a Schedule of fractions of the DDPM
 * steps) as the score-distillation options that anneal t (src/rl/timestep-schedule.ts):
 *   constants                      -> anneal "none"
 *   linear from -> to over the run -> anneal "linear" (DreamGaussian)
 *   piecewise [[0, a], [S, b]]     -> anneal "step" at S (ProlificDreamer, GaussianDreamer)
 * The SDS rules sample t themselves, so the schedule is handed to them as options; shapes they
 * cannot follow exactly are refused with an error naming the field.
 */
import { InputError } from '../errors.ts';
import type { Schedule, TimestepSchedule } from './schedules.ts';

export const TIMESTEP_ALGORITHMS = ['sds', 'reward-weighted-sds'];
const OPTION_KEYS = ['timestepRange', 'anneal', 'annealTo', 'annealAt'];

type Shape = { kind: 'constant'; v: number } | { kind: 'linear'; from: number; to: number } | { kind: 'step'; from: number; to: number; at: number };

function shapeOf(s: Schedule, field: string, totalSteps: number): Shape {
  if (typeof s === 'number') return { kind: 'constant', v: s };
  if (s.kind === 'constant') return { kind: 'constant', v: s.value };
  if (s.kind === 'linear' && (s.start ?? 0) === 0 && (s.end === undefined || s.end === totalSteps - 1)) return { kind: 'linear', from: s.from, to: s.to };
  if (s.kind === 'piecewise') {
    if (s.values.length === 1 && s.values[0][0] === 0) return { kind: 'constant', v: s.values[0][1] };
    if (s.values.length === 2 && s.values[0][0] === 0) return { kind: 'step', from: s.values[0][1], to: s.values[1][1], at: s.values[1][0] };
  }
  throw new InputError(
    `${field}: the score-distillation timestep can follow a constant, a "linear" schedule over the whole run, or a "piecewise" [[0, a], [step, b]] switch; got ${JSON.stringify(s)}.`,
  );
}

const inUnit = (x: number, field: string) => {
  if (!(x >= 0 && x <= 1)) throw new InputError(`${field}: timestep fractions must lie in [0, 1], got ${x}.`);
  return x;
};

/** Algorithm options equivalent to the timestep schedule for a run of `totalSteps` steps. */
export function timestepOptions(ts: TimestepSchedule, totalSteps: number, field = 'schedule.timestep'): Record<string, unknown> {
  const lo = shapeOf(ts.min, `${field}.min`, totalSteps);
  const hi = shapeOf(ts.max, `${field}.max`, totalSteps);
  const ends = (s: Shape): [number, number] => (s.kind === 'constant' ? [s.v, s.v] : [s.from, s.to]);
  const [lo0, lo1] = ends(lo).map((x) => inUnit(x, `${field}.min`));
  const [hi0, hi1] = ends(hi).map((x) => inUnit(x, `${field}.max`));
  if (lo0 > hi0 || lo1 > hi1) throw new InputError(`${field}: min must not exceed max (start [${lo0}, ${hi0}], end [${lo1}, ${hi1}]).`);
  const steps = [lo, hi].filter((s) => s.kind === 'step') as Extract<Shape, { kind: 'step' }>[];
  const linear = lo.kind === 'linear' || hi.kind === 'linear';
  if (steps.length && linear) throw new InputError(`${field}: min and max must anneal the same way (both linear or both piecewise).`);
  const base = { timestepRange: [lo0, hi0], annealTo: [lo1, hi1] };
  if (linear) return { ...base, anneal: 'linear' };
  if (steps.length) {
    if (steps.some((s) => s.at !== steps[0].at)) throw new InputError(`${field}: min and max must switch at the same step.`);
    const at = steps[0].at;
    if (at >= totalSteps) throw new InputError(`${field}: the switch at step ${at} is not within the run's ${totalSteps} steps.`);
    return { ...base, anneal: 'step', annealAt: totalSteps > 1 ? at / (totalSteps - 1) : 0 };
  }
  return { ...base, anneal: 'none' };
}

/** The algorithm options with the timestep schedule merged in; refuses options that already set t. */
export function withTimestepOptions(algorithm: string, options: Record<string, unknown>, ts: TimestepSchedule | undefined, totalSteps: number): Record<string, unknown> {
  if (!ts) return options;
  if (!TIMESTEP_ALGORITHMS.includes(algorithm))
    throw new InputError(`schedule.timestep applies to score distillation (${TIMESTEP_ALGORITHMS.join(', ')}), not to algorithm '${algorithm}'; remove it.`);
  const clash = OPTION_KEYS.find((k) => k in options);
  if (clash) throw new InputError(`schedule.timestep and algorithm.options.${clash} both set the timestep range; keep one.`);
  return { ...options, ...timestepOptions(ts, totalSteps) };
}
