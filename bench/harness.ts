/**
 * Shared pieces of the benchmarks: timing of async (GPU) work, a printed table, and a JSON
 * results file per benchmark with the adapter's description. Results are compared as
 * ratios against a baseline measured in the same run, since absolute times drift on
 * shared machines.
 */
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Gpu } from '../src/gpu/gpu.ts';
import type { AdapterSummary } from '../src/gpu/device.ts';

export interface TimeOptions {
  /** Untimed runs first (pipeline builds, allocations, caches). */
  warmup?: number;
  iterations?: number;
}

export interface Timing {
  medianMs: number;
  minMs: number;
  samplesMs: number[];
}

export type Row = Record<string, string | number | boolean | null>;

/** Each benchmark module in bench/ exports this. */
export interface BenchModule {
  run(gpu: Gpu, opts: { quick: boolean }): Promise<void>;
}

export const RESULTS_DIR = join(dirname(fileURLToPath(import.meta.url)), 'results');

export function median(values: number[]): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/** Times `fn` (which should wait for its GPU work) after `warmup` untimed calls. */
export async function timeIt(fn: () => Promise<unknown> | unknown, options: TimeOptions = {}): Promise<Timing> {
  const warmup = options.warmup ?? 1;
  const iterations = Math.max(1, options.iterations ?? 5);
  for (let i = 0; i < warmup; i++) await fn();
  const samplesMs: number[] = [];
  for (let i = 0; i < iterations; i++) {
    const t0 = performance.now();
    await fn();
    samplesMs.push(performance.now() - t0);
  }
  return { medianMs: median(samplesMs), minMs: Math.min(...samplesMs), samplesMs };
}

function formatCell(v: Row[string]): string {
  if (typeof v === 'number') {
    if (Number.isInteger(v)) return String(v);
    const a = Math.abs(v);
    return a !== 0 && (a >= 1e6 || a < 1e-3) ? v.toExponential(3) : v.toPrecision(4);
  }
  return v === null ? '-' : String(v);
}

/** A plain-text table; columns are the union of the rows' keys in first-seen order. */
export function formatTable(title: string, rows: Row[]): string {
  const columns = [...new Set(rows.flatMap((r) => Object.keys(r)))];
  const cells = rows.map((r) => columns.map((c) => formatCell(r[c] ?? null)));
  const widths = columns.map((c, i) => Math.max(c.length, ...cells.map((row) => row[i].length)));
  const line = (parts: string[]) => parts.map((p, i) => p.padStart(widths[i])).join('  ');
  return [title, line(columns), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.map(line)].join('\n');
}

export function printTable(title: string, rows: Row[]): void {
  console.log(`\n${formatTable(title, rows)}\n`);
}

export interface ResultsPayload {
  adapter: AdapterSummary;
  rows: Row[];
  [extra: string]: unknown;
}

/** Writes bench/results/<name>.json via a temporary file and a rename; returns the path. */
export async function writeResults(name: string, payload: ResultsPayload, dir = RESULTS_DIR): Promise<string> {
  if (!/^[\w.-]+$/.test(name)) throw new Error(`benchmark result name '${name}' must be letters, digits, '.', '_' or '-'.`);
  await mkdir(dir, { recursive: true });
  const path = join(dir, `${name}.json`);
  const temp = `${path}.${process.pid}.tmp`;
  const { adapter, rows, ...extra } = payload;
  const body = { name, date: new Date().toISOString(), adapter, ...extra, rows };
  await writeFile(temp, JSON.stringify(body, null, 2) + '\n');
  await rename(temp, path);
  return path;
}
