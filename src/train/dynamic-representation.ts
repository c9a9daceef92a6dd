/**
 * 4D splats for the trainer: DeformedSplatRepresentation (canonical splats moved by a
 * deformation field at each camera's time) with what a training run needs around it: every
 * block for Adam (frozen ones get learning rate 0), the static-then-dynamic schedule
 * (DreamGaussian4D: the canonical splats alone for `staticSteps`, then the field alone),
 * checkpoint state, and the outputs (result.glb with the flip-book frames and the exact field,
 * result.ply with the canonical splats).
 */
import { join } from 'node:path';
import type { Gpu } from '../gpu/gpu.ts';
import type { Camera } from '../math/camera.ts';
import type { RenderCotangents, RenderOptions } from '../render/types.ts';
import type { GaussianData } from '../scene/gaussian-data.ts';
import type { DeformationField, DeformationState } from '../scene/deform/deformation-field.ts';
import { HexPlaneField } from '../scene/deform/hexplane-field.ts';
import { TrajectoryField } from '../scene/deform/trajectory-field.ts';
import { DeformRegularisers, uploadNeighbourhood, type GpuNeighbourhood } from '../scene/deform/regularisers.ts';
import { nearestNeighbours } from '../scene/deform/knn.ts';
import type { ParamBlock, RenderFrame, Representation } from '../scene/representation.ts';
import type { RewardSplats } from '../rewards/plugin.ts';
import { write4dGlb } from '../io/glb-4d.ts';
import { writePlyFrames } from '../io/ply-frames.ts';
import { saveGaussians } from '../io/gaussians-file.ts';
import { writeFileAtomic } from '../io/write-atomic.ts';
import { DeformedSplatRepresentation } from './deformed-representation.ts';
import type { DeformationOptions } from './dynamic-options.ts';
import type { RenderTimer } from './splat-representation.ts';
import { SPLAT_BLOCK_NAMES } from './splat-blocks.ts';

/** Loss weights of the deformation regularisers; 0 turns one off. */
export interface DeformRegulariserWeights {
  smoothness: number;
  planeTV: number;
  rigidity: number;
  /** k of the canonical k-nearest-neighbour graph rigidity keeps. */
  rigidityNeighbours: number;
}

export interface DynamicSchedule {
  schedule: 'static-then-dynamic' | 'joint';
  staticSteps: number;
  /** Flip-book frames in result.glb. */
  frames: number;
}

export class DynamicSplatRepresentation implements Representation {
  readonly kind = 'splats' as const;
  private regularisers: DeformRegularisers | undefined;
  private neighbourhood: GpuNeighbourhood | undefined;

  private constructor(
    private readonly gpu: Gpu,
    readonly inner: DeformedSplatRepresentation,
    private readonly schedule: DynamicSchedule,
  ) {}

  static async create(gpu: Gpu, canonical: GaussianData, deformation: DeformationOptions, learningRates: Record<string, number>, schedule: DynamicSchedule, seed: number): Promise<DynamicSplatRepresentation> {
    const field: DeformationField =
      deformation.kind === 'hexplane' ? await HexPlaneField.create(gpu, deformation.config, seed) : await TrajectoryField.create(gpu, canonical.count, deformation.config);
    const inner = await DeformedSplatRepresentation.create(gpu, canonical, field, { learningRates });
    return new DynamicSplatRepresentation(gpu, inner, schedule);
  }

  set timer(t: RenderTimer | undefined) {
    this.inner.timer = t;
  }

  /** Every block, frozen or not (Adam's groups are fixed for the run). */
  allParams(): ParamBlock[] {
    const frozen = { ...this.inner.frozen };
    this.inner.setFrozen({ canonical: false, field: false });
    const blocks = this.inner.params();
    this.inner.setFrozen(frozen);
    return blocks;
  }

  /** Freezes what the schedule leaves out at `step`; returns the names of the frozen blocks. */
  stage(step: number): Set<string> {
    const s = this.schedule;
    const dynamicPhase = s.schedule === 'joint' || step >= s.staticSteps;
    const freeze = s.schedule === 'joint' ? { canonical: false, field: false } : { canonical: dynamicPhase, field: !dynamicPhase };
    this.inner.setFrozen(freeze);
    const frozen = new Set<string>();
    if (freeze.canonical) SPLAT_BLOCK_NAMES.forEach((n) => frozen.add(n));
    if (freeze.field) this.inner.field.params().forEach((b) => frozen.add(b.name));
    return frozen;
  }

  /**
   * Adds the weighted regularisers' gradients (temporal smoothness of the deformed means
   * around `time`, plane total variation, local rigidity against the canonical neighbours)
   * into the field's grads, and the canonical grads when those train; returns the losses.
   */
  async regularise(time: number, dt: number, w: DeformRegulariserWeights): Promise<Record<string, number>> {
    const out: Record<string, number> = {};
    if (!(w.smoothness > 0 || w.planeTV > 0 || w.rigidity > 0) || this.inner.frozen.field) return out;
    this.regularisers ??= await DeformRegularisers.create(this.gpu);
    const { cloud, grads, field } = this.inner;
    const canonical = { count: cloud.count, shDegree: cloud.shDegree, means: cloud.means, quats: cloud.quats, logScales: cloud.logScales, opacityLogits: cloud.opacityLogits, sh: cloud.sh };
    const canonicalGrads = this.inner.frozen.canonical ? {} : { means: grads.means, quats: grads.quats, logScales: grads.logScales, opacityLogits: grads.opacityLogits, sh: grads.sh };
    if (w.smoothness > 0) out['regulariser.smoothness'] = await this.regularisers.temporalSmoothness(field, canonical, canonicalGrads, time, dt, w.smoothness);
    if (w.planeTV > 0 && field instanceof HexPlaneField) out['regulariser.planeTV'] = await this.regularisers.planeTV(field, w.planeTV);
    if (w.rigidity > 0) {
      // The neighbourhood is taken from the canonical splats when the field starts training.
      this.neighbourhood ??= uploadNeighbourhood(this.gpu, nearestNeighbours(await this.gpu.readF32(cloud.means, cloud.count * 3), w.rigidityNeighbours));
      out['regulariser.rigidity'] = await this.regularisers.rigidity(field, canonical, canonicalGrads, time, this.neighbourhood, w.rigidity);
    }
    return out;
  }

  setLearningRate(name: string, lr: number): void {
    this.inner.setLearningRate(name, lr);
  }

  params(): ParamBlock[] {
    return this.inner.params();
  }

  render(cameras: Camera[], options?: RenderOptions): Promise<RenderFrame> {
    return this.inner.render(cameras, options);
  }

  backward(frame: RenderFrame, cotangents: RenderCotangents): Promise<void> {
    return this.inner.backward(frame, cotangents);
  }

  zeroGrads(encoder: GPUCommandEncoder): void {
    this.inner.zeroGrads(encoder);
  }

  /** The deformed splats of a single-time frame, undefined for a batch at several times (see DeformedSplatRepresentation). */
  rewardSplats(frame: RenderFrame): RewardSplats | undefined {
    return this.inner.rewardSplats(frame);
  }

  async exportState(): Promise<Record<string, unknown>> {
    return { kind: 'splats-4d', canonical: await this.inner.cloud.toData(), field: await this.inner.field.toState() };
  }

  /** Restores canonical splats and field parameters of the same shape. */
  async importState(state: Record<string, unknown>): Promise<void> {
    const data = state.canonical as GaussianData;
    const cloud = this.inner.cloud;
    for (const name of SPLAT_BLOCK_NAMES) this.gpu.write(cloud[name], data[name]);
    this.inner.field.fromState(state.field as DeformationState);
  }

  async writeOutputs(outDir: string): Promise<string[]> {
    const canonical = await this.inner.cloud.toData();
    const field = await this.inner.field.toState();
    const glb = join(outDir, 'result.glb');
    await writeFileAtomic(glb, write4dGlb(canonical, field, { frames: this.schedule.frames }));
    const ply = join(outDir, 'result.ply');
    await saveGaussians(ply, canonical);
    // One PLY per flip-book frame, for tools that take only static splats.
    const frames = await writePlyFrames(join(outDir, 'frames'), canonical, field, { frames: this.schedule.frames });
    return [glb, ply, ...frames.map((f) => join(outDir, 'frames', f.file))];
  }

  destroy(): void {
    this.inner.destroy();
    this.neighbourhood?.destroy();
  }
}
