/**
 * The annealed timestep range of score distillation, as fractions of the DDPM steps:
 *  'none'   the start range throughout;
 *  'linear' interpolates start -> end over training (DreamGaussian anneals t linearly; use a
 *           degenerate range such as [0.98, 0.98] -> [0.02, 0.02] for its deterministic t);
 *  'sqrt'   the same with progress sqrt(step / total) (HiFA's sqrt anneal);
 *  'step'   switches to the end range at `annealAt` of training (ProlificDreamer: max 0.98 ->
 *           0.5 at step 5000 of 25000, GaussianDreamer: 0.98 -> 0.55 after step 500).
 */
export type Anneal = 'none' | 'linear' | 'sqrt' | 'step';

export interface TimestepScheduleOptions {
  timestepRange: [number, number];
  anneal: string;
  annealTo: [number, number];
  annealAt: number;
}

export function timestepRange(o: TimestepScheduleOptions, step: number, totalSteps: number): [number, number] {
  const p = totalSteps > 1 ? Math.min(Math.max(step / (totalSteps - 1), 0), 1) : 0;
  const lerp = (f: number): [number, number] => [
    o.timestepRange[0] + f * (o.annealTo[0] - o.timestepRange[0]),
    o.timestepRange[1] + f * (o.annealTo[1] - o.timestepRange[1]),
  ];
  let range: [number, number];
  switch (o.anneal as Anneal) {
    case 'linear':
      range = lerp(p);
      break;
    case 'sqrt':
      range = lerp(Math.sqrt(p));
      break;
    case 'step':
      range = p >= o.annealAt ? [...o.annealTo] : [...o.timestepRange];
      break;
    default:
      range = [...o.timestepRange];
  }
  return range[0] <= range[1] ? range : [range[1], range[0]];
}

/** An integer timestep uniform in the range (fractions of `steps`), from one uniform u. */
export function sampleTimestep(range: [number, number], steps: number, u: number): number {
  const f = range[0] + (range[1] - range[0]) * u;
  return Math.min(steps - 1, Math.max(0, Math.round(f * (steps - 1))));
}
