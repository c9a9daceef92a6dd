/**
 * Training metrics as JSON lines (one object per step: reward and loss, every reward
 * component and algorithm number, splat count, step time and time per phase), plus the
 * per-phase wall-clock timer the trainer uses to fill them.
 */
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { writeFileAtomic } from '../io/write-atomic.ts';

export const PHASES = ['render', 'reward', 'backward', 'update', 'densify'] as const;
export type Phase = (typeof PHASES)[number];

export interface StepRecord {
  step: number;
  /** Seconds since the run started (continues across resumes). */
  time: number;
  stepMs: number;
  reward: number;
  loss?: number;
  splats?: number;
  /** Milliseconds per phase in this step; the rest of stepMs is algorithm bookkeeping. */
  phaseMs: Record<Phase, number>;
  /** Reward components, algorithm numbers, learning rates, densification counts. */
  metrics: Record<string, number>;
}

/** Accumulates wall time per phase; nested calls are not expected (phases are disjoint). */
export class PhaseTimer {
  private totals: Record<Phase, number> = PhaseTimer.zero();

  static zero(): Record<Phase, number> {
    return Object.fromEntries(PHASES.map((p) => [p, 0])) as Record<Phase, number>;
  }

  async time<T>(phase: Phase, fn: () => Promise<T>): Promise<T> {
    const t0 = performance.now();
    try {
      return await fn();
    } finally {
      this.totals[phase] += performance.now() - t0;
    }
  }

  /** The totals since the last call, and resets them. */
  take(): Record<Phase, number> {
    const out = this.totals;
    this.totals = PhaseTimer.zero();
    return out;
  }
}

export class MetricsLog {
  private constructor(readonly path: string) {}

  /** Starts a fresh log (truncating an old one). */
  static async create(path: string): Promise<MetricsLog> {
    await writeFileAtomic(path, '');
    return new MetricsLog(path);
  }

  /**
   * Reopens a log to continue a resumed run: lines for steps at or after `nextStep` (written
   * after the checkpoint, before the interruption) are dropped so no step appears twice.
   */
  static async resume(path: string, nextStep: number): Promise<MetricsLog> {
    const kept = existsSync(path)
      ? readFileSync(path, 'utf8')
          .split('\n')
          .filter((line) => {
            if (!line.trim()) return false;
            try {
              return (JSON.parse(line) as StepRecord).step < nextStep;
            } catch {
              return false; // a line cut by the interruption
            }
          })
      : [];
    await writeFileAtomic(path, kept.map((l) => l + '\n').join(''));
    return new MetricsLog(path);
  }

  append(record: StepRecord): void {
    appendFileSync(this.path, JSON.stringify(record, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? null : v)) + '\n');
  }
}

/** Reads a metrics.jsonl file back (for plots and tests). */
export function readMetrics(path: string): StepRecord[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as StepRecord);
}
