/**
 * The training loop: sample views -> algorithm.step (render, score, gradients) -> Adam ->
 * densification -> metrics and progress -> checkpoint; at the end a turntable, the reward
 * plot, result.glb and result.ply. Every random draw is derived from (seed, step, stream), and
 * checkpoints hold all other state, so a resumed run takes the same next step as an
 * uninterrupted one.
 */
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Gpu } from '../gpu/gpu.ts';
import { InputError } from '../errors.ts';
import { saveGaussians } from '../io/gaussians-file.ts';
import type { RenderOptions } from '../render/types.ts';
import { RewardEnsemble, type EnsembleConfig } from '../rewards/ensemble.ts';
import type { RewardSpec } from '../rewards/plugin.ts';
import type { Algorithm, StepContext } from '../rl/algorithm.ts';
import type { ScorePrior } from '../prior/score-prior.ts';
import { randomGaussiansInSphere } from '../scene/gaussian-init.ts';
import { Adam } from './adam.ts';
import { CameraSampler } from './camera-sampler.ts';
import { hashConfig, loadCheckpoint, saveCheckpoint, checkpointPath } from './checkpoint.ts';
import type { SceneConfig } from './config.ts';
import { DefaultDensifier } from './densify-default.ts';
import { McmcDensifier } from './densify-mcmc.ts';
import { MetricsLog, PhaseTimer, readMetrics, type StepRecord } from './metrics.ts';
import { createTrainerPrior } from './prior-factory.ts';
import { Progress, type ProgressSink } from './progress.ts';
import { Rng } from './rng.ts';
import { scheduleValue } from './schedules.ts';
import { SplatRepresentation } from './splat-representation.ts';
import { NerfRepresentation } from './nerf-representation.ts';
import { DynamicSplatRepresentation } from './dynamic-representation.ts';
import { writeRewardPlot, writeTurntable } from './turntable.ts';

/** Stream id for the algorithm's per-step random numbers. */
const ALGORITHM_STREAM = 2;

export interface TrainOptions {
  outDir: string;
  resume?: boolean;
  /** Where progress goes (default stderr). */
  progress?: ProgressSink;
  /** Stop after this many completed steps, as if interrupted (tests); writes a checkpoint, no outputs. */
  stopAfter?: number;
  /** Skip the turntable and exports (benchmarks). */
  skipOutputs?: boolean;
  /** Builds the algorithm (default: src/rl/registry.ts); tests pass one directly. */
  createAlgorithm?: (name: string, options: Record<string, unknown>, gpu: Gpu) => Promise<Algorithm>;
}

export interface TrainResult {
  outDir: string;
  steps: number;
  finalReward: number;
  firstReward: number;
  splats: number;
  files: string[];
  /** Final parameters (for tests comparing runs). */
  representation: SplatRepresentation | NerfRepresentation | DynamicSplatRepresentation;
}

/** The trained splats of a result (throws for a NeRF result). */
export function trainedSplats(result: TrainResult): SplatRepresentation {
  if (!(result.representation instanceof SplatRepresentation)) throw new InputError(`the result is a ${result.representation.kind}, not splats.`);
  return result.representation;
}

/** Fields of the config that change what a step computes; resume refuses a config that differs in them. */
function trainingIdentity(c: SceneConfig): unknown {
  return { seed: c.seed, representation: c.representation, rewards: c.rewards, algorithm: c.algorithm, prior: c.prior, schedule: c.schedule, cameras: c.cameras, densify: c.densify, prompt: c.prompt };
}

/** Radius of the initial cloud, the scale gsplat's thresholds are relative to. */
function sceneScale(c: SceneConfig): number {
  return c.representation.init.radius;
}

export async function train(gpu: Gpu, config: SceneConfig, options: TrainOptions): Promise<TrainResult> {
  const outDir = resolve(options.outDir);
  await mkdir(outDir, { recursive: true });
  const total = config.schedule.steps;
  const identity = hashConfig(trainingIdentity(config));
  const progress = new Progress(options.progress ?? process.stderr, config.output.logEvery);
  const timer = new PhaseTimer();

  const lrAt = (step: number) => Object.fromEntries(Object.entries(config.schedule.lr).map(([k, s]) => [k, scheduleValue(s, step, total)]));
  const init = config.representation.init;
  const initialSplats = () =>
    randomGaussiansInSphere({
      count: init.count,
      radius: init.radius,
      shDegree: init.shDegree,
      seed: config.seed,
      opacity: init.opacity,
      scale: init.scale,
      center: config.cameras.target,
    });
  const dynamic = config.representation.dynamic;
  const rep: SplatRepresentation | NerfRepresentation | DynamicSplatRepresentation = config.representation.nerf
    ? await NerfRepresentation.create(gpu, config.representation.nerf, lrAt(0))
    : config.representation.deformation && dynamic
      ? await DynamicSplatRepresentation.create(
          gpu,
          initialSplats(),
          config.representation.deformation,
          lrAt(0),
          { schedule: dynamic.schedule, staticSteps: dynamic.staticSteps, frames: Math.max(2, Math.min(dynamic.times, 16)) },
          config.seed,
        )
      : await SplatRepresentation.create(gpu, initialSplats(), lrAt(0));
  const splats = rep instanceof SplatRepresentation ? rep : undefined;
  const dyn = rep instanceof DynamicSplatRepresentation ? rep : undefined;
  // 4D, splats or NeRF: a schedule that freezes blocks, and deformation regularisers.
  const staged = dyn ?? (rep instanceof NerfRepresentation && rep.deformation ? rep : undefined);
  const splatCount = () => (splats ? splats.cloud.count : dyn ? dyn.inner.cloud.count : undefined);
  const adamBlocks = () => (staged ? staged.allParams() : rep.params());
  let adam: Adam | undefined;
  let ensemble: RewardEnsemble | undefined;
  let algorithm: Algorithm | undefined;
  let densifier: DefaultDensifier | undefined;
  let mcmc: McmcDensifier | undefined;
  let prior: ScorePrior | undefined;
  try {
    if (config.prior) {
      const cams = config.cameras;
      prior = await createTrainerPrior(config.prior, config.baseDir, {
        radius: (cams.radius[0] + cams.radius[1]) / 2,
        fov: (cams.fov[0] + cams.fov[1]) / 2,
        target: cams.target,
        background: config.representation.background,
      });
    }
    const specs: RewardSpec[] = config.rewards.components.map((c) => ({ name: c.name, module: c.module, weight: scheduleValue(c.weight ?? 1, 0, total), options: c.options }));
    const ensembleConfig = { normalize: 'none', aggregate: 'mean', ...(config.rewards.normalize !== undefined ? { normalize: config.rewards.normalize } : {}), ...(config.rewards.aggregate !== undefined ? { aggregate: config.rewards.aggregate } : {}) } as EnsembleConfig;
    ensemble = await RewardEnsemble.create(gpu, specs, ensembleConfig, config.baseDir);
    // Depth distortion is a splat-renderer output: refuse it for NeRF before any step.
    if (ensemble.needs.distortion && rep.kind === 'nerf')
      throw new InputError(
        `reward component(s) ${ensemble.needing('distortion').map((k) => `'${k}'`).join(', ')} read the depth distortion image, which the 'nerf' representation cannot render; set their distortionWeight to 0 or use a splat representation.`,
      );
    const create = options.createAlgorithm ?? (await import('../rl/registry.ts')).createAlgorithm;
    algorithm = await create(config.algorithm.name, config.algorithm.options, gpu);
    if (config.densify.strategy === 'default') densifier = await DefaultDensifier.create(gpu, config.densify, sceneScale(config));
    else if (config.densify.strategy === 'mcmc') mcmc = await McmcDensifier.create(gpu, config.densify);

    let startStep = 0;
    let elapsedBefore = 0;
    let metrics: MetricsLog;
    const metricsPath = join(outDir, 'metrics.jsonl');
    if (options.resume) {
      const ck = await loadCheckpoint(outDir, identity);
      await rep.importState(ck.representation);
      adam = await Adam.create(gpu, adamBlocks());
      adam.importState(ck.optimizer as never);
      if (ck.rewards) ensemble.loadStateDict(ck.rewards as never);
      if (ck.algorithm && algorithm!.loadStateDict) await algorithm!.loadStateDict(ck.algorithm);
      startStep = ck.step;
      elapsedBefore = ck.elapsed;
      metrics = await MetricsLog.resume(metricsPath, startStep);
      progress.message(`resuming ${config.name} at step ${startStep}/${total} from ${checkpointPath(outDir)}`);
    } else {
      adam = await Adam.create(gpu, adamBlocks());
      metrics = await MetricsLog.create(metricsPath);
    }
    rep.timer = timer;
    const timedEnsemble = new Proxy(ensemble, {
      get(target, key) {
        const value = Reflect.get(target, key, target);
        if (key === 'score') return (...args: Parameters<RewardEnsemble['score']>) => timer.time('reward', () => target.score(...args));
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    const sampler = new CameraSampler({ ...config.cameras, times: dynamic?.times }, config.seed);
    // Rewards that read the distortion image make every render produce it (splats only); normals
    // are rendered only when some reward reads them (a NeRF's cost several field evaluations).
    const distortionRange = config.representation.distortionRange;
    const renderOptions: RenderOptions = {
      background: config.representation.background,
      ...(ensemble.needs.distortion ? { distortion: true, ...(distortionRange ? { distortionRange } : {}) } : {}),
      normals: ensemble.needs.normal,
    };
    const started = performance.now();
    const saveState = async (completed: number) =>
      saveCheckpoint(outDir, {
        step: completed,
        configHash: identity,
        elapsed: elapsedBefore + (performance.now() - started) / 1000,
        representation: await rep.exportState(),
        optimizer: await adam!.exportState(),
        rewards: ensemble!.stateDict(),
        algorithm: algorithm!.stateDict ? await algorithm!.stateDict() : undefined,
      });

    let firstReward = NaN;
    let lastReward = NaN;
    const stopAt = Math.min(total, options.stopAfter ?? total);
    for (let step = startStep; step < stopAt; step++) {
      const t0 = performance.now();
      const lrs = lrAt(step);
      for (const [name, lr] of Object.entries(lrs)) {
        adam.setLearningRate(name, lr);
        rep.setLearningRate(name, lr);
      }
      if (staged) {
        // Static-then-dynamic: what is frozen this step keeps its parameters (Adam lr 0).
        const frozen = staged.stage(step);
        for (const b of staged.allParams()) adam.setLearningRate(b.name, frozen.has(b.name) ? 0 : (lrs[b.name] ?? b.lr));
      }
      const batch = sampler.sample(step);
      // Reward-weight schedules: component i of the config is member i of the ensemble.
      const weights: Record<string, number> = {};
      config.rewards.components.forEach((c, i) => {
        if (typeof c.weight !== 'object') return;
        const key = ensemble!.names[i];
        weights[`weight.${key}`] = scheduleValue(c.weight, step, total);
        ensemble!.setWeight(key, weights[`weight.${key}`]);
      });
      const priorWeight = prior && config.prior!.weight !== undefined ? scheduleValue(config.prior!.weight, step, total) : 1;
      await gpu.run('zero grads', (enc) => rep.zeroGrads(enc));
      const ctx: StepContext = {
        gpu,
        step,
        totalSteps: total,
        random: Rng.forStep(config.seed, step, ALGORITHM_STREAM).asFunction(),
        representation: rep,
        cameras: batch.cameras,
        renderOptions,
        prompt: config.prompt,
        rewards: timedEnsemble,
        prior,
        priorWeight,
      };
      const report = await algorithm!.step(ctx);
      if (staged && dynamic) {
        // Regularisers at this batch's first time, differenced over one frame step.
        const losses = await staged.regularise(ctx.cameras[0]?.time ?? 0, 1 / Math.max(dynamic.times - 1, 1), dynamic.regularisers);
        Object.assign(report.metrics, losses);
      }
      if (mcmc && splats) await timer.time('update', () => mcmc!.regularize(splats.splatState));
      await timer.time('update', () => gpu.run('adam step', (enc) => adam!.step(enc)));
      let densifyMetrics: Record<string, number> = {};
      if (densifier && splats) {
        const changed = await timer.time('densify', () => densifier!.afterStep(step, splats.splatState, adam!, config.seed));
        if (changed) {
          splats.replace(changed.state);
          densifyMetrics = changed.metrics;
        }
      }
      if (mcmc && splats) {
        const changed = await timer.time('densify', () => mcmc!.afterStep(step, splats.splatState, adam!, config.seed, lrs.means ?? 0));
        if (changed) {
          splats.replace(changed.state);
          densifyMetrics = changed.metrics;
        }
      }
      if (rep instanceof NerfRepresentation && (await timer.time('densify', () => rep.afterStep(step, config.seed)))) densifyMetrics = { 'nerf.occupancyUpdate': 1 };
      const stepMs = performance.now() - t0;
      if (step === startStep && options.resume !== true) firstReward = report.reward;
      lastReward = report.reward;
      const record: StepRecord = {
        step,
        time: elapsedBefore + (performance.now() - started) / 1000,
        stepMs,
        reward: report.reward,
        loss: report.loss,
        splats: splatCount(),
        phaseMs: timer.take(),
        metrics: { ...report.metrics, ...densifyMetrics, ...weights, ...(prior ? { priorWeight } : {}), ...Object.fromEntries(Object.entries(lrs).map(([k, v]) => [`lr.${k}`, v])) },
      };
      metrics.append(record);
      progress.update({ step, total, reward: report.reward, loss: report.loss, splats: splatCount(), stepMs });
      const completed = step + 1;
      if ((config.output.checkpointEvery > 0 && completed % config.output.checkpointEvery === 0) || completed === stopAt) await saveState(completed);
    }
    progress.finish();

    const files = [checkpointPath(outDir), metricsPath];
    if (stopAt === total && !options.skipOutputs) {
      const tt = config.output.turntable;
      const frames = await writeTurntable(gpu, rep, outDir, {
        frames: tt.frames,
        size: tt.size,
        elevation: tt.elevation,
        radius: (config.cameras.radius[0] + config.cameras.radius[1]) / 2,
        fov: (config.cameras.fov[0] + config.cameras.fov[1]) / 2,
        target: config.cameras.target,
        renderOptions: { ...renderOptions, distortion: false },
        gif: tt.gif,
        dynamic: Boolean(staged),
      });
      files.push(...frames.slice(0, 1));
      if (tt.gif && tt.frames > 0) files.push(join(outDir, 'turntable.gif'));
      files.push(await writeRewardPlot(outDir, readMetrics(metricsPath)));
      if (splats) {
        const result = await splats.cloud.toData();
        for (const name of ['result.glb', 'result.ply']) {
          await saveGaussians(join(outDir, name), result);
          files.push(join(outDir, name));
        }
      } else if (dyn) files.push(...(await dyn.writeOutputs(outDir)));
      else files.push(...(await (rep as NerfRepresentation).writeOutputs(outDir, config.seed)));
    }
    if (firstReward !== firstReward && options.resume) firstReward = readMetrics(metricsPath)[0]?.reward ?? NaN;
    // A resume of a finished run takes no step; its last reward is the log's.
    if (lastReward !== lastReward && options.resume) lastReward = readMetrics(metricsPath).at(-1)?.reward ?? NaN;
    return { outDir, steps: stopAt, firstReward, finalReward: lastReward, splats: splatCount() ?? (rep instanceof NerfRepresentation ? rep.exportedSplats : 0), files, representation: rep };
  } catch (e) {
    rep.destroy();
    throw e;
  } finally {
    densifier?.destroy();
    mcmc?.destroy();
    adam?.destroy();
    algorithm?.destroy?.();
    await ensemble?.destroy();
    await prior?.destroy?.();
  }
}
