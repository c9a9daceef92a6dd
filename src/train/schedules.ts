/**
 * Values that change over training: learning rates, reward weights, the score-distillation
 * weight and its timestep range. A schedule is a plain number (constant) or an object:
 *   {kind: "linear" | "cosine" | "exponential", from, to, start?, end?}
 *       ramps from `from` at step `start` (default 0) to `to` at step `end` (default: the last
 *       step); held constant outside. "exponential" is gsplat's means decay
 *       (from * gamma^t, gamma = (to/from)^(1/(end-start))), "cosine" a half-cosine.
 *   {kind: "piecewise", values: [[step, value], ...]}   step-wise: the value of the last
 *       milestone at or before the step (threestudio's [start, v0, v1, end] style).
 *   {kind: "constant", value}
 */
import { InputError } from '../errors.ts';

export type Schedule =
  | number
  | { kind: 'constant'; value: number }
  | { kind: 'linear' | 'cosine' | 'exponential'; from: number; to: number; start?: number; end?: number }
  | { kind: 'piecewise'; values: [number, number][] };

/** JSON schema of a Schedule (used inside the scene schema). */
export const scheduleSchema = {
  oneOf: [
    { type: 'number' },
    {
      type: 'object',
      required: ['kind', 'value'],
      additionalProperties: false,
      properties: { kind: { const: 'constant' }, value: { type: 'number' } },
    },
    {
      type: 'object',
      required: ['kind', 'from', 'to'],
      additionalProperties: false,
      properties: {
        kind: { enum: ['linear', 'cosine', 'exponential'] },
        from: { type: 'number' },
        to: { type: 'number' },
        start: { type: 'integer', minimum: 0 },
        end: { type: 'integer', minimum: 0 },
      },
    },
    {
      type: 'object',
      required: ['kind', 'values'],
      additionalProperties: false,
      properties: {
        kind: { const: 'piecewise' },
        values: {
          type: 'array',
          minItems: 1,
          items: { type: 'array', minItems: 2, maxItems: 2, items: [{ type: 'integer', minimum: 0 }, { type: 'number' }] },
        },
      },
    },
  ],
} as const;

/** Checks what the schema cannot (exponential needs positive ends, start < end); throws naming `field`. */
export function checkSchedule(s: Schedule, field: string): void {
  if (typeof s === 'number' || s.kind === 'constant' || s.kind === 'piecewise') {
    if (typeof s === 'object' && s.kind === 'piecewise') {
      for (let i = 1; i < s.values.length; i++)
        if (s.values[i][0] <= s.values[i - 1][0]) throw new InputError(`${field}.values: milestone steps must increase (entry ${i}).`);
    }
    return;
  }
  if (s.kind === 'exponential' && !(s.from > 0 && s.to > 0))
    throw new InputError(`${field}: an exponential schedule needs 'from' and 'to' above 0.`);
  if (s.start !== undefined && s.end !== undefined && s.end <= s.start)
    throw new InputError(`${field}: 'end' (${s.end}) must be after 'start' (${s.start}).`);
}

/** The value of a schedule at `step` of a run of `totalSteps` steps. */
export function scheduleValue(s: Schedule, step: number, totalSteps: number): number {
  if (typeof s === 'number') return s;
  switch (s.kind) {
    case 'constant':
      return s.value;
    case 'piecewise': {
      let v = s.values[0][1];
      for (const [at, value] of s.values) if (step >= at) v = value;
      return v;
    }
    default: {
      const start = s.start ?? 0;
      const end = Math.max(s.end ?? Math.max(totalSteps - 1, 1), start + 1);
      const t = Math.min(Math.max((step - start) / (end - start), 0), 1);
      if (s.kind === 'linear') return s.from + (s.to - s.from) * t;
      if (s.kind === 'cosine') return s.to + (s.from - s.to) * 0.5 * (1 + Math.cos(Math.PI * t));
      return s.from * Math.pow(s.to / s.from, t);
    }
  }
}

/** Score-distillation timestep range as fractions of the diffusion schedule, each a Schedule. */
export interface TimestepSchedule {
  min: Schedule;
  max: Schedule;
}

/** [tMin, tMax] in [0, 1] for this step; max is kept at or above min. */
export function timestepRange(s: TimestepSchedule, step: number, totalSteps: number): [number, number] {
  const lo = Math.min(Math.max(scheduleValue(s.min, step, totalSteps), 0), 1);
  const hi = Math.min(Math.max(scheduleValue(s.max, step, totalSteps), 0), 1);
  return [lo, Math.max(lo, hi)];
}
