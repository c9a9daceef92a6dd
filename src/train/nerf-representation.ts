/**
 * The NeRF representation the RL loop drives: a RadianceField rendered by the NerfRenderer,
 * with the occupancy grid refreshed every `occupancyEvery` steps (the ray marcher skips the
 * cells it marks empty), learning rates per block for the schedules, checkpoint state, and the
 * final outputs: a marching-cubes mesh (mesh.glb) and splats sampled from the density
 * (result.glb, result.ply) so that the same viewer opens every result.
 */
import { join } from 'node:path';
import type { Gpu } from '../gpu/gpu.ts';
import type { Camera } from '../math/camera.ts';
import type { RenderCotangents, RenderOptions } from '../render/types.ts';
import type { NerfFrame } from '../render/nerf/renderer.ts';
import { RadianceField, type RadianceFieldState } from '../scene/radiance-field.ts';
import type { ParamBlock, RenderFrame, Representation } from '../scene/representation.ts';
import { radianceFieldToGaussians, radianceFieldToMesh } from '../io/nerf-export.ts';
import { writeMeshGlb } from '../io/mesh-glb.ts';
import { saveGaussians } from '../io/gaussians-file.ts';
import { writeFileAtomic } from '../io/write-atomic.ts';
import type { NerfOptions } from './nerf-options.ts';
import { mixSeed } from './rng.ts';
import { InputError } from '../errors.ts';
import type { RenderTimer } from './splat-representation.ts';

/** Stream id of the occupancy grid's jitter. */
const OCCUPANCY_STREAM = 6;

export class NerfRepresentation implements Representation {
  readonly kind = 'nerf' as const;
  timer?: RenderTimer;
  /** Splats in the last result.glb/.ply written (0 before outputs). */
  exportedSplats = 0;

  private constructor(
    private readonly gpu: Gpu,
    private field: RadianceField,
    readonly options: NerfOptions,
  ) {}

  static async create(gpu: Gpu, options: NerfOptions, learningRates: Record<string, number>): Promise<NerfRepresentation> {
    const field = await RadianceField.create(gpu, options.field, { hash: learningRates['nerf.hash'], mlp: learningRates['nerf.mlp'] });
    return new NerfRepresentation(gpu, field, options);
  }

  get radianceField(): RadianceField {
    return this.field;
  }

  setLearningRate(name: string, lr: number): void {
    if (name === 'nerf.hash') this.field.lr.hash = lr;
    if (name === 'nerf.mlp') this.field.lr.mlp = lr;
  }

  params(): ParamBlock[] {
    return this.field.params();
  }

  async render(cameras: Camera[], options: RenderOptions = {}): Promise<RenderFrame> {
    if (options.distortion)
      throw new InputError("the 'nerf' representation cannot render depth distortion (RenderOptions.distortion); it is a splat-renderer output.");
    const run = async () => {
      const frame = await this.field.render(cameras, { ...options, stepSize: this.options.stepSize });
      await this.gpu.device.queue.onSubmittedWorkDone();
      return frame;
    };
    return this.timer ? this.timer.time('render', run) : run();
  }

  async backward(frame: RenderFrame, cotangents: RenderCotangents): Promise<void> {
    if (cotangents.distortion) throw new InputError("the 'nerf' representation has no depth distortion to take a 'distortion' cotangent.");
    const run = async () => {
      await this.field.backward(frame as NerfFrame, cotangents);
      await this.gpu.device.queue.onSubmittedWorkDone();
    };
    return this.timer ? this.timer.time('backward', run) : run();
  }

  zeroGrads(encoder: GPUCommandEncoder): void {
    this.field.zeroGrads(encoder);
  }

  /** Refreshes the occupancy grid on its schedule (after optimisation step `step`); true when it ran. */
  async afterStep(step: number, seed: number): Promise<boolean> {
    const every = this.options.occupancyEvery;
    if (every <= 0 || (step + 1) % every !== 0) return false;
    await this.field.updateOccupancy({ threshold: this.options.occupancyThreshold, seed: mixSeed(seed, step, OCCUPANCY_STREAM) });
    return true;
  }

  async exportState(): Promise<Record<string, unknown>> {
    return (await this.field.toState()) as unknown as Record<string, unknown>;
  }

  /** Restores a checkpoint's field (parameters and occupancy grid); the current field is released. */
  async importState(state: Record<string, unknown>): Promise<void> {
    const next = await RadianceField.fromState(this.gpu, state as unknown as RadianceFieldState, this.field.lr);
    this.field.destroy();
    this.field = next;
  }

  /** mesh.glb (marching cubes of the density) and result.glb / result.ply (splats sampled from the field). */
  async writeOutputs(outDir: string, seed: number): Promise<string[]> {
    const o = this.options;
    const mesh = await radianceFieldToMesh(this.field, { resolution: o.meshResolution, isoDensity: o.isoDensity });
    const meshPath = join(outDir, 'mesh.glb');
    await writeFileAtomic(meshPath, writeMeshGlb(mesh, 'nerf'));
    const splats = await radianceFieldToGaussians(this.field, { count: o.exportSplats, seed });
    this.exportedSplats = splats.count;
    const files = [meshPath];
    for (const name of ['result.glb', 'result.ply']) {
      await saveGaussians(join(outDir, name), splats);
      files.push(join(outDir, name));
    }
    return files;
  }

  destroy(): void {
    this.field.destroy();
  }
}
