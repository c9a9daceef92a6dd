/**
 * `npm run bench [names...] [--quick]` and `rl4d bench`: runs every bench/<name>.bench.ts
 * (or the named ones) in turn on one shared device. Each module exports
 * `run(gpu, { quick })`, prints its table and writes bench/results/<name>.json.
 */
import { readdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from '../src/cli/args.ts';
import { InputError } from '../src/errors.ts';
import { Gpu } from '../src/gpu/gpu.ts';
import type { BenchModule } from './harness.ts';

const BENCH_DIR = dirname(fileURLToPath(import.meta.url));
const SUFFIX = '.bench.ts';

export function benchmarkNames(): string[] {
  return readdirSync(BENCH_DIR)
    .filter((f) => f.endsWith(SUFFIX))
    .map((f) => f.slice(0, -SUFFIX.length))
    .sort();
}

/** Runs the named benchmarks (all when empty); returns the process exit code. */
export async function runBenchmarks(names: string[], opts: { quick: boolean }): Promise<number> {
  const available = benchmarkNames();
  const unknown = names.filter((n) => !available.includes(n));
  if (unknown.length) throw new InputError(`unknown benchmark ${unknown.map((n) => `'${n}'`).join(', ')}; available: ${available.join(', ')}.`);
  const selected = names.length ? names : available;
  const gpu = await Gpu.create();
  try {
    console.log(`adapter: ${gpu.summary.description || gpu.summary.device} (${gpu.summary.backend})${opts.quick ? ', quick' : ''}`);
    for (const name of selected) {
      const mod = (await import(pathToFileURL(`${BENCH_DIR}/${name}${SUFFIX}`).href)) as Partial<BenchModule>;
      if (typeof mod.run !== 'function') throw new Error(`bench/${name}${SUFFIX} does not export run(gpu, opts)`);
      console.log(`\n== ${name}`);
      const t0 = performance.now();
      await mod.run(gpu, opts);
      console.log(`${name}: done in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    }
  } finally {
    gpu.destroy();
  }
  return 0;
}

export function parseBenchArgs(argv: string[]): { names: string[]; quick: boolean; help: boolean } {
  const { positionals, options } = parseArgs('bench', argv, { quick: 'boolean', help: 'boolean' });
  return { names: positionals, quick: options.quick === true, help: options.help === true };
}

export function benchUsage(): string {
  return `usage: rl4d bench [names...] [--quick]\n\nbenchmarks: ${benchmarkNames().join(', ')}\nResults go to bench/results/<name>.json.`;
}

const isEntry = process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href;
if (isEntry) {
  const run = async (): Promise<number> => {
    const args = parseBenchArgs(process.argv.slice(2));
    if (args.help) {
      console.log(benchUsage());
      return 0;
    }
    return runBenchmarks(args.names, { quick: args.quick });
  };
  run().then(
    (code) => process.exit(code),
    (e) => {
      console.error(e instanceof InputError ? `bench: ${e.message}` : e);
      process.exit(e instanceof InputError ? 2 : 1);
    },
  );
}
