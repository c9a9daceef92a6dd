/** `rl4d optimize [scene.json] --out <dir> [--steps N] [--seed S] [--resume]`: runs a scene config. */
import { fileURLToPath } from 'node:url';
import { relative } from 'node:path';
import { parseArgs } from '../args.ts';
import { InputError } from '../../errors.ts';

export const summary = 'optimise a scene config (scenes/*.json) into splats: turntable, result.glb, result.ply, metrics';

const DEFAULT_SCENE = fileURLToPath(new URL('../../../scenes/default.json', import.meta.url));

const HELP = `usage: rl4d optimize [scene.json] --out <dir> [--steps N] [--seed S] [--resume]

Runs the scene (default: scenes/default.json) and writes into <dir>:
  result.glb, result.ply      the optimised splats (open with: rl4d view <dir>)
  turntable/frame_NNN.png     views around the result, and turntable.gif
  reward.png, metrics.jsonl   the reward curve and per-step metrics
  checkpoint.rl4d             written every output.checkpointEvery steps and at the end

  --out <dir>    output folder (created if missing; default: out/<scene name>)
  --steps N      override schedule.steps
  --seed S       override the scene's seed
  --resume       continue from <dir>/checkpoint.rl4d (same scene, same result as an uninterrupted run)`;

export async function run(argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(HELP);
    return 0;
  }
  const { positionals, options } = parseArgs('optimize', argv, { out: 'string', steps: 'number', seed: 'number', resume: 'boolean' });
  if (positionals.length > 1) throw new InputError(`optimize takes one scene config, got ${positionals.length}: ${positionals.join(', ')}.`);
  const scenePath = positionals[0] ?? DEFAULT_SCENE;
  // Everything that can be wrong with the input is checked before the GPU starts.
  const { loadSceneConfig } = await import('../../train/config.ts');
  const { registryValidators } = await import('../../train/validators.ts');
  const config = await loadSceneConfig(scenePath, registryValidators(), {
    steps: options.steps as number | undefined,
    seed: options.seed as number | undefined,
  });
  const outDir = (options.out as string | undefined) ?? `out/${config.name}`;

  const { Gpu } = await import('../../gpu/gpu.ts');
  const { train } = await import('../../train/trainer.ts');
  const gpu = await Gpu.create();
  try {
    const t0 = performance.now();
    const result = await train(gpu, config, { outDir, resume: Boolean(options.resume) });
    result.representation.destroy();
    const rel = relative(process.cwd(), result.outDir) || '.';
    console.log(
      `done: ${result.steps} steps in ${((performance.now() - t0) / 1000).toFixed(1)} s, reward ${result.firstReward.toFixed(4)} -> ${result.finalReward.toFixed(4)}, ${result.splats} splats.\n` +
        `result: ${rel}/result.glb (also result.ply, turntable.gif, reward.png, metrics.jsonl)\n` +
        `view it: rl4d view ${rel}`,
    );
    return 0;
  } finally {
    gpu.destroy();
  }
}
