/**
 * gsplat's MCMC densification strategy (3DGS-MCMC): every `every` steps between `start` and
 * `stop`, dead splats (opacity <= minOpacity) are relocated onto live ones drawn by opacity and
 * the cloud grows by growFactor towards `capMax`, with the binomial opacity/scale correction
 * so that n copies render like the one they came from; every step, position noise scaled by
 * the covariance and gated to nearly transparent splats explores the scene; before each Adam
 * step the opacity and scale regularisers add their gradients.
 *
 * The plan (which rows copy which splat, corrected values) is drawn on the host from the
 * opacities read back once per refinement (src/reference/train/mcmc.ts, f64, seeded by
 * (seed, step) so a resumed run draws the same); the kernels of shaders/train/densify_mcmc.wgsl
 * apply it to the parameters and Adam moments, which restart at zero on rewritten rows.
 */
import type { Gpu } from '../gpu/gpu.ts';
import { GaussianCloud, GaussianGrads } from '../scene/gaussian-cloud.ts';
import { emptyGaussians } from '../scene/gaussian-data.ts';
import { recordGather } from './densify-gather.ts';
import { planMcmc, type McmcPlan } from '../reference/train/mcmc.ts';
import type { Adam } from './adam.ts';
import type { DensifyConfig } from './config.ts';
import { Rng, mixSeed } from './rng.ts';
import { SPLAT_BLOCK_NAMES, blockWidth, type SplatState } from './splat-blocks.ts';

const FILE = 'train/densify_mcmc.wgsl';
const WG = 64;
/** Stream ids for the refinement draws and the per-step noise. */
const RELOCATE_STREAM = 4;
const NOISE_STREAM = 5;

function words(...values: [('u' | 'f'), number][]): Uint8Array {
  const buf = new ArrayBuffer(Math.max(16, Math.ceil((values.length * 4) / 16) * 16));
  const dv = new DataView(buf);
  values.forEach(([t, v], i) => (t === 'u' ? dv.setUint32(i * 4, v, true) : dv.setFloat32(i * 4, v, true)));
  return new Uint8Array(buf);
}

export class McmcDensifier {
  private constructor(
    private readonly gpu: Gpu,
    private readonly config: DensifyConfig,
    private readonly kernels: Record<'gather' | 'noise' | 'regularize', GPUComputePipeline>,
  ) {}

  static async create(gpu: Gpu, config: DensifyConfig): Promise<McmcDensifier> {
    const k = (entry: string) => gpu.kernel({ file: FILE, entry });
    const [gather, noise, regularize] = await Promise.all([k('mcmc_gather'), k('mcmc_inject_noise'), k('mcmc_regularize')]);
    return new McmcDensifier(gpu, config, { gather, noise, regularize });
  }

  /** Adds the regularisers' gradients (after the algorithm's backward, before Adam). */
  async regularize(state: SplatState): Promise<void> {
    const c = this.config;
    const n = state.cloud.count;
    if (n === 0 || (c.opacityReg === 0 && c.scaleReg === 0)) return;
    const params = this.gpu.uniform('mcmc regularize params', words(['u', n], ['f', c.opacityReg / n], ['f', c.scaleReg / (3 * n)]));
    await this.gpu.run('mcmc regularize', (enc) =>
      this.gpu.dispatch(enc, this.kernels.regularize, [params, state.cloud.opacityLogits, state.cloud.logScales, state.grads.opacityLogits, state.grads.logScales], Math.ceil(n / WG)),
    );
    params.destroy();
  }

  /** Noise on the means: scale = learning rate of the means * noiseLr, as gsplat. */
  async injectNoise(state: SplatState, meansLr: number, seed: number): Promise<void> {
    const n = state.cloud.count;
    const params = this.gpu.uniform('mcmc noise params', words(['u', n], ['u', seed >>> 0], ['f', meansLr * this.config.noiseLr]));
    await this.gpu.run('mcmc inject noise', (enc) =>
      this.gpu.dispatch(enc, this.kernels.noise, [params, state.cloud.logScales, state.cloud.quats, state.cloud.opacityLogits, state.cloud.means], Math.ceil(n / WG)),
    );
    params.destroy();
  }

  /** After optimisation step `step`: refinement on schedule, then noise; returns the new state when the cloud changed. */
  async afterStep(step: number, state: SplatState, adam: Adam | null, seed: number, meansLr: number): Promise<{ state: SplatState; metrics: Record<string, number> } | null> {
    const c = this.config;
    const done = step + 1;
    let result: { state: SplatState; metrics: Record<string, number> } | null = null;
    if (done > c.start && done < c.stop && done % c.every === 0) {
      const logits = await this.gpu.readF32(state.cloud.opacityLogits, state.cloud.count);
      const plan = planMcmc(logits, c, Rng.forStep(seed, step, RELOCATE_STREAM).asFunction());
      result = { state: await this.apply(state, adam, plan), metrics: { 'densify.relocated': plan.relocated, 'densify.added': plan.added } };
    }
    await this.injectNoise(result?.state ?? state, meansLr, mixSeed(seed, step, NOISE_STREAM));
    return result;
  }

  /** Lays the cloud, its gradients and Adam's moments out by the plan; the old ones are destroyed. */
  async apply(state: SplatState, adam: Adam | null, plan: McmcPlan): Promise<SplatState> {
    const gpu = this.gpu;
    const { cloud, grads } = state;
    const rows = plan.rows;
    const K = cloud.shCoeffs;
    const temp: GPUBuffer[] = [];
    const track = (b: GPUBuffer) => (temp.push(b), b);
    const source = track(gpu.upload('mcmc source', plan.source));
    const logit = track(gpu.upload('mcmc opacity logits', plan.opacityLogit));
    const shift = track(gpu.upload('mcmc scale shift', plan.logScaleShift));
    const next = GaussianCloud.fromData(gpu, emptyGaussians(rows, cloud.shDegree));
    const nextGrads = GaussianGrads.create(gpu, rows, cloud.shDegree);
    const moments: Record<string, { m: GPUBuffer; v: GPUBuffer }> = {};
    await gpu.run('mcmc gather', (enc) => {
      const gather = (src: GPUBuffer, dst: GPUBuffer, width: number, mode: number) =>
        recordGather(gpu, enc, { pipeline: this.kernels.gather, head: [source, logit, shift], src, srcRows: cloud.count, dst, rows, width, mode, track });
      for (const name of SPLAT_BLOCK_NAMES) {
        const w = blockWidth(name, K);
        gather(cloud[name], next[name], w, name === 'opacityLogits' ? 1 : name === 'logScales' ? 2 : 0);
        if (adam) {
          const old = adam.moments(name);
          // Ranged: SH moments may pass the binding limit (recordGather binds them in ranges).
          const m = track(gpu.buffer(`mcmc moments m ${name}`, rows * w * 4, undefined, true));
          const v = track(gpu.buffer(`mcmc moments v ${name}`, rows * w * 4, undefined, true));
          gather(old.m, m, w, 3);
          gather(old.v, v, w, 3);
          moments[name] = { m, v };
        }
      }
    });
    if (adam) {
      for (const name of SPLAT_BLOCK_NAMES) {
        const w = blockWidth(name, K);
        const m = await gpu.readF32(moments[name].m, rows * w);
        const v = await gpu.readF32(moments[name].v, rows * w);
        adam.replaceGroup(name, next[name], nextGrads[name], rows * w, { m, v });
      }
    }
    for (const b of temp) b.destroy();
    cloud.destroy();
    grads.destroy();
    return { cloud: next, grads: nextGrads };
  }

  destroy(): void {}
}
