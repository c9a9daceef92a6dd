/**
 * The splat representation the RL loop drives: a GaussianCloud rendered by the SplatRenderer,
 * with GaussianGrads receiving the backward pass and the densification statistics. After
 * densification the trainer swaps in the new cloud and grads with `replace`.
 */
import type { Gpu } from '../gpu/gpu.ts';
import type { Camera } from '../math/camera.ts';
import type { RenderCotangents, RenderOptions } from '../render/types.ts';
import { SplatRenderer } from '../render/splat/splat-renderer.ts';
import { GaussianCloud, GaussianGrads } from '../scene/gaussian-cloud.ts';
import type { GaussianData } from '../scene/gaussian-data.ts';
import type { ParamBlock, RenderFrame, Representation } from '../scene/representation.ts';
import type { RewardSplats } from '../rewards/plugin.ts';
import { SPLAT_BLOCK_NAMES, blockWidth, type SplatState } from './splat-blocks.ts';

/** Optional wall-clock hooks (the trainer's phase timer). */
export interface RenderTimer {
  time<T>(phase: 'render' | 'backward', fn: () => Promise<T>): Promise<T>;
}

export class SplatRepresentation implements Representation {
  readonly kind = 'splats' as const;
  private state: SplatState;
  timer?: RenderTimer;

  private constructor(
    private readonly gpu: Gpu,
    private readonly renderer: SplatRenderer,
    cloud: GaussianCloud,
    private readonly learningRates: Record<string, number>,
  ) {
    this.state = { cloud, grads: GaussianGrads.create(gpu, cloud.count, cloud.shDegree) };
  }

  static async create(gpu: Gpu, data: GaussianData, learningRates: Record<string, number>): Promise<SplatRepresentation> {
    const renderer = await SplatRenderer.create(gpu);
    return new SplatRepresentation(gpu, renderer, GaussianCloud.fromData(gpu, data), learningRates);
  }

  get cloud(): GaussianCloud {
    return this.state.cloud;
  }

  get grads(): GaussianGrads {
    return this.state.grads;
  }

  get splatState(): SplatState {
    return this.state;
  }

  /** Takes ownership of a densified cloud and its grads (the previous ones are already destroyed). */
  replace(state: SplatState): void {
    this.state = state;
  }

  setLearningRate(name: string, lr: number): void {
    this.learningRates[name] = lr;
  }

  params(): ParamBlock[] {
    const { cloud, grads } = this.state;
    return SPLAT_BLOCK_NAMES.map((name) => ({
      name,
      param: cloud[name],
      grad: grads[name],
      count: cloud.count * blockWidth(name, cloud.shCoeffs),
      lr: this.learningRates[name] ?? 0,
    }));
  }

  async render(cameras: Camera[], options: RenderOptions = {}): Promise<RenderFrame> {
    const run = async () => {
      const frame = await this.renderer.forward(this.state.cloud, cameras, options);
      await this.gpu.device.queue.onSubmittedWorkDone();
      return frame;
    };
    return this.timer ? this.timer.time('render', run) : run();
  }

  async backward(frame: RenderFrame, cotangents: RenderCotangents): Promise<void> {
    const run = async () => {
      await this.renderer.backward(frame as never, cotangents, this.state.grads);
      await this.gpu.device.queue.onSubmittedWorkDone();
    };
    return this.timer ? this.timer.time('backward', run) : run();
  }

  zeroGrads(encoder: GPUCommandEncoder): void {
    this.state.grads.zero(encoder);
  }

  /** The current cloud: it made every frame rendered since the parameters last changed. */
  rewardSplats(): RewardSplats | undefined {
    const { cloud } = this.state;
    return cloud.count ? { count: cloud.count, means: cloud.means, logScales: cloud.logScales, opacityLogits: cloud.opacityLogits } : undefined;
  }

  /** Parameters and densification statistics, for checkpoints. */
  async exportState(): Promise<Record<string, unknown>> {
    const { cloud, grads } = this.state;
    const n = cloud.count;
    return {
      kind: 'splats',
      data: await cloud.toData(),
      stats: {
        gradNorm2d: await this.gpu.readF32(grads.gradNorm2d, n),
        absGradNorm2d: await this.gpu.readF32(grads.absGradNorm2d, n),
        visibleCount: await this.gpu.readF32(grads.visibleCount, n),
        maxRadius: await this.gpu.readF32(grads.maxRadius, n),
      },
    };
  }

  /** Restores a checkpoint's parameters and statistics (replacing the current cloud). */
  importState(state: Record<string, unknown>): void {
    const data = state.data as GaussianData;
    this.state.cloud.destroy();
    this.state.grads.destroy();
    const cloud = GaussianCloud.fromData(this.gpu, data);
    const grads = GaussianGrads.create(this.gpu, data.count, data.shDegree);
    const stats = state.stats as Record<'gradNorm2d' | 'absGradNorm2d' | 'visibleCount' | 'maxRadius', Float32Array>;
    for (const key of ['gradNorm2d', 'absGradNorm2d', 'visibleCount', 'maxRadius'] as const) if (data.count) this.gpu.write(grads[key], stats[key]);
    this.state = { cloud, grads };
  }

  destroy(): void {
    this.state.cloud.destroy();
    this.state.grads.destroy();
    (this.renderer as { destroy?: () => void }).destroy?.();
  }
}
