/**
 * Progress reporting: a one-line bar redrawn in place on a terminal, plain log lines every
 * `every` steps otherwise (CI logs, pipes), so that logs stay readable in both.
 */
export interface ProgressInfo {
  step: number;
  total: number;
  reward: number;
  loss?: number;
  splats?: number;
  stepMs: number;
}

export interface ProgressSink {
  isTTY?: boolean;
  columns?: number;
  write(text: string): unknown;
}

function formatNumber(v: number | undefined): string {
  if (v === undefined || !Number.isFinite(v)) return '-';
  const a = Math.abs(v);
  return a !== 0 && (a < 1e-3 || a >= 1e5) ? v.toExponential(2) : v.toFixed(4);
}

function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  const s = Math.round(seconds);
  const m = Math.floor(s / 60);
  return m > 0 ? `${m}m${String(s % 60).padStart(2, '0')}s` : `${s}s`;
}

export class Progress {
  private lastLine = '';
  constructor(
    private readonly out: ProgressSink = process.stderr,
    private readonly every = 10,
  ) {}

  get interactive(): boolean {
    return Boolean(this.out.isTTY);
  }

  update(p: ProgressInfo): void {
    const done = p.step + 1;
    const eta = ((p.total - done) * p.stepMs) / 1000;
    const stats = `reward ${formatNumber(p.reward)}${p.loss !== undefined ? ` loss ${formatNumber(p.loss)}` : ''}${
      p.splats !== undefined ? ` splats ${p.splats}` : ''
    } ${(1000 / Math.max(p.stepMs, 1e-6)).toFixed(2)} it/s eta ${formatDuration(eta)}`;
    if (this.interactive) {
      const width = Math.max(10, Math.min(40, (this.out.columns ?? 100) - stats.length - 20));
      const filled = Math.round((width * done) / p.total);
      const line = `\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${p.total} ${stats}`;
      this.out.write(line.padEnd(this.lastLine.length));
      this.lastLine = line;
    } else if (done % this.every === 0 || done === p.total || p.step === 0) {
      this.out.write(`step ${done}/${p.total} ${stats}\n`);
    }
  }

  /** Ends the bar's line so later output starts on a fresh one. */
  finish(): void {
    if (this.interactive && this.lastLine) this.out.write('\n');
    this.lastLine = '';
  }

  message(text: string): void {
    if (this.interactive && this.lastLine) {
      this.out.write('\n');
      this.lastLine = '';
    }
    this.out.write(text + '\n');
  }
}
