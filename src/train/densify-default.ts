/**
 * gsplat's default densification strategy on the GPU: every `every` steps between `start` and
 * `stop`, splats whose mean screen-space gradient exceeds `growGrad2d` are duplicated (small
 * ones) or split into two samples with scale / 1.6 (large ones); splats with opacity below
 * `pruneOpacity` (and, after the first opacity reset, too large ones) are pruned; every
 * `resetEvery` steps opacities are clamped to 2 * pruneOpacity. The cloud, its gradients and
 * Adam's groups are replaced; moments carry over for kept splats and start at zero for new
 * copies and split samples, as gsplat does. Statistics restart after each refinement.
 */
import type { Gpu } from '../gpu/gpu.ts';
import { PrefixSum } from '../gpu/prefix-sum.ts';
import { recordGather } from './densify-gather.ts';
import { emptyGaussians } from '../scene/gaussian-data.ts';
import { GaussianCloud, GaussianGrads } from '../scene/gaussian-cloud.ts';
import type { Adam } from './adam.ts';
import type { DensifyConfig } from './config.ts';
import { mixSeed } from './rng.ts';
import { SPLAT_BLOCK_NAMES, blockWidth, type SplatState } from './splat-blocks.ts';

const FILE = 'train/densify_default.wgsl';
const WG = 64;
/** Stream id for densification's random numbers (split samples). */
const DENSIFY_STREAM = 3;

export interface DefaultRefineOptions {
  growGrad2d: number;
  growScale3d: number;
  pruneOpacity: number;
  pruneScale3d: number;
  checkTooBig: boolean;
  absgrad: boolean;
  seed: number;
}

export interface RefineCounts {
  before: number;
  after: number;
  duplicated: number;
  split: number;
  pruned: number;
}

function words(...values: [('u' | 'f'), number][]): Uint8Array {
  const buf = new ArrayBuffer(Math.max(16, Math.ceil((values.length * 4) / 16) * 16));
  const dv = new DataView(buf);
  values.forEach(([t, v], i) => (t === 'u' ? dv.setUint32(i * 4, v, true) : dv.setFloat32(i * 4, v, true)));
  return new Uint8Array(buf);
}

export class DefaultDensifier {
  private constructor(
    private readonly gpu: Gpu,
    private readonly config: DensifyConfig,
    private readonly sceneScale: number,
    private readonly scan: PrefixSum,
    private readonly kernels: Record<'classify' | 'map' | 'gather' | 'split' | 'reset', GPUComputePipeline>,
  ) {}

  static async create(gpu: Gpu, config: DensifyConfig, sceneScale: number): Promise<DefaultDensifier> {
    const k = (entry: string) => gpu.kernel({ file: FILE, entry });
    const [classify, map, gather, split, reset] = await Promise.all([
      k('densify_classify'),
      k('densify_map'),
      k('densify_gather'),
      k('densify_split_means'),
      k('densify_reset_opacity'),
    ]);
    return new DefaultDensifier(gpu, config, sceneScale, await PrefixSum.create(gpu), { classify, map, gather, split, reset });
  }

  /** Runs what the schedule asks for after optimisation step `step`; returns the new state when it changed. */
  async afterStep(step: number, state: SplatState, adam: Adam | null, seed: number): Promise<{ state: SplatState; metrics: Record<string, number> } | null> {
    const c = this.config;
    const done = step + 1; // gsplat counts refinements on the step number after the update
    let result: { state: SplatState; metrics: Record<string, number> } | null = null;
    if (done > c.start && done < c.stop && done % c.every === 0) {
      const { state: next, counts } = await this.refine(state, adam, {
        growGrad2d: c.growGrad2d,
        growScale3d: c.growScale3d * this.sceneScale,
        pruneOpacity: c.pruneOpacity,
        pruneScale3d: c.pruneScale3d * this.sceneScale,
        checkTooBig: c.resetEvery > 0 && done > c.resetEvery,
        absgrad: c.absgrad,
        seed: mixSeed(seed, step, DENSIFY_STREAM),
      });
      result = { state: next, metrics: { 'densify.duplicated': counts.duplicated, 'densify.split': counts.split, 'densify.pruned': counts.pruned } };
    }
    if (c.resetEvery > 0 && done % c.resetEvery === 0 && done < c.stop) {
      const s = result?.state ?? state;
      await this.resetOpacity(s, adam, c.pruneOpacity * 2);
      result = { state: s, metrics: { ...(result?.metrics ?? {}), 'densify.opacityReset': 1 } };
    }
    return result;
  }

  /** Clamps opacities to `ceiling` and zeroes the opacity moments (gsplat's reset). */
  async resetOpacity(state: SplatState, adam: Adam | null, ceiling: number): Promise<void> {
    const gpu = this.gpu;
    const n = state.cloud.count;
    const logit = Math.log(ceiling / (1 - ceiling));
    const params = gpu.uniform('densify reset params', words(['u', n], ['f', logit]));
    await gpu.run('densify opacity reset', (enc) => {
      gpu.dispatch(enc, this.kernels.reset, [params, state.cloud.opacityLogits], Math.ceil(n / WG));
      if (adam) {
        const { m, v } = adam.moments('opacityLogits');
        enc.clearBuffer(m);
        enc.clearBuffer(v);
      }
    });
    params.destroy();
  }

  /** One clone/split/prune pass. The old cloud and grads are destroyed; Adam's groups repointed. */
  async refine(state: SplatState, adam: Adam | null, o: DefaultRefineOptions): Promise<{ state: SplatState; counts: RefineCounts }> {
    const gpu = this.gpu;
    const { cloud, grads } = state;
    const n = cloud.count;
    const temp: GPUBuffer[] = [];
    const track = (b: GPUBuffer) => (temp.push(b), b);
    const rows = track(gpu.buffer('densify rows', n * 4));
    const actions = track(gpu.buffer('densify actions', n * 4));
    const offsets = track(gpu.buffer('densify offsets', (n + 1) * 4));
    const classifyParams = track(
      gpu.uniform(
        'densify classify params',
        words(['u', n], ['u', o.checkTooBig ? 1 : 0], ['f', o.growGrad2d], ['f', o.growScale3d], ['f', o.pruneOpacity], ['f', o.pruneScale3d]),
      ),
    );
    const stat = o.absgrad ? grads.absGradNorm2d : grads.gradNorm2d;
    await gpu.run('densify classify', (enc) => {
      gpu.dispatch(enc, this.kernels.classify, [classifyParams, stat, grads.visibleCount, cloud.logScales, cloud.opacityLogits, rows, actions], Math.ceil(n / WG));
      this.scan.scanExclusive(enc, rows, offsets, n);
    });
    const total = (await gpu.readU32(offsets, 1, n))[0];
    const actionList = await gpu.readU32(actions, n);
    const counts: RefineCounts = { before: n, after: total, duplicated: 0, split: 0, pruned: 0 };
    for (const a of actionList) {
      if (a === 0) counts.pruned++;
      else if (a === 2) counts.duplicated++;
      else if (a === 3) counts.split++;
    }

    const nextCloud = GaussianCloud.fromData(gpu, emptyGaussians(total, cloud.shDegree));
    const nextGrads = GaussianGrads.create(gpu, total, cloud.shDegree);
    const source = track(gpu.buffer('densify row source', total * 4));
    const mapParams = track(gpu.uniform('densify map params', words(['u', n])));
    const K = cloud.shCoeffs;
    const newMoments: Record<string, { m: GPUBuffer; v: GPUBuffer }> = {};
    await gpu.run('densify gather', (enc) => {
      gpu.dispatch(enc, this.kernels.map, [mapParams, offsets, source], Math.ceil(n / WG));
      const gather = (src: GPUBuffer, dst: GPUBuffer, width: number, mode: number) =>
        recordGather(gpu, enc, { pipeline: this.kernels.gather, head: [source, actions], src, srcRows: n, dst, rows: total, width, mode, track });
      for (const name of SPLAT_BLOCK_NAMES) {
        const w = blockWidth(name, K);
        gather(cloud[name], nextCloud[name], w, name === 'logScales' ? 1 : 0);
        if (adam) {
          const old = adam.moments(name);
          // Ranged: SH moments may pass the binding limit (recordGather binds them in ranges).
          const m = track(gpu.buffer(`densify moments m ${name}`, total * w * 4, undefined, true));
          const v = track(gpu.buffer(`densify moments v ${name}`, total * w * 4, undefined, true));
          gather(old.m, m, w, 2);
          gather(old.v, v, w, 2);
          newMoments[name] = { m, v };
        }
      }
      const sp = track(gpu.uniform('densify split params', words(['u', total], ['u', o.seed >>> 0])));
      gpu.dispatch(enc, this.kernels.split, [sp, source, actions, cloud.means, cloud.logScales, cloud.quats, nextCloud.means], Math.ceil(total / WG));
    });
    if (adam) {
      for (const name of SPLAT_BLOCK_NAMES) {
        const w = blockWidth(name, K);
        const m = await gpu.readF32(newMoments[name].m, total * w);
        const v = await gpu.readF32(newMoments[name].v, total * w);
        adam.replaceGroup(name, nextCloud[name], nextGrads[name], total * w, { m, v });
      }
    }
    for (const b of temp) b.destroy();
    cloud.destroy();
    grads.destroy();
    return { state: { cloud: nextCloud, grads: nextGrads }, counts };
  }

  destroy(): void {
    this.scan.destroy();
  }
}
