/** `rl4d bench [names...] [--quick]`: the benchmarks of bench/, as `npm run bench`. */
import { benchUsage, parseBenchArgs, runBenchmarks } from '../../../bench/run.ts';

export const summary = 'run the benchmarks in bench/ and write bench/results/<name>.json';

export async function run(argv: string[]): Promise<number> {
  const args = parseBenchArgs(argv);
  if (args.help) {
    console.log(benchUsage());
    return 0;
  }
  return runBenchmarks(args.names, { quick: args.quick });
}
