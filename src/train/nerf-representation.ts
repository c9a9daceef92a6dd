/**
 * The NeRF representation the RL loop drives: a RadianceField rendered by the NerfRenderer,
 * with the occupancy grid refreshed every `occupancyEvery` steps (the ray marcher skips the
 * cells it marks empty), learning rates per block for the schedules, checkpoint state, and the
 * final outputs: a marching-cubes mesh (mesh.glb) and splats sampled from the density
 * (result.glb, result.ply) so that the same viewer opens every result.
 *
 * 4D (options.dynamic): a HexPlane field warps each ray sample to the canonical field at the
 * camera's time. Static-then-dynamic trains the canonical field alone for `staticSteps`, then
 * the deformation alone (the trainer gives frozen blocks learning rate 0, as for 4D splats);
 * while the deformation is frozen at its zero-offset start the renderer skips the warp, which
 * renders the same images (tested) for less work. Outputs add one mesh per frame time
 * (frames/mesh_NNN.glb); mesh.glb and the splats are of the canonical field.
 */
import { join } from 'node:path';
import type { Gpu } from '../gpu/gpu.ts';
import type { Camera } from '../math/camera.ts';
import type { RenderCotangents, RenderOptions } from '../render/types.ts';
import type { NerfFrame } from '../render/nerf/renderer.ts';
import { RadianceField, type RadianceFieldState } from '../scene/radiance-field.ts';
import type { ParamBlock, RenderFrame, Representation } from '../scene/representation.ts';
import { nerfMeshGlb, radianceFieldToGaussians, radianceFieldToMesh, warpPoints } from '../io/nerf-export.ts';
import { HexPlaneField } from '../scene/deform/hexplane-field.ts';
import type { HexPlaneState } from '../scene/deform/deformation-field.ts';
import { DeformRegularisers } from '../scene/deform/regularisers.ts';
import { mkdir } from 'node:fs/promises';
import { saveGaussians } from '../io/gaussians-file.ts';
import { writeFileAtomic } from '../io/write-atomic.ts';
import { NERF_BLOCKS, type NerfOptions } from './nerf-options.ts';
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

  /** 4D: which blocks the schedule freezes this step. */
  private frozen = { canonical: false, deformation: false };
  private regularisers?: DeformRegularisers;

  private constructor(
    private readonly gpu: Gpu,
    private field: RadianceField,
    readonly options: NerfOptions,
    /** 4D: the deformation field (undefined for a static NeRF). */
    readonly deformation?: HexPlaneField,
  ) {}

  static async create(gpu: Gpu, options: NerfOptions, learningRates: Record<string, number>): Promise<NerfRepresentation> {
    const field = await RadianceField.create(gpu, options.field, { hash: learningRates['nerf.hash'], mlp: learningRates['nerf.mlp'] });
    const d = options.dynamic;
    const deformation = d ? await HexPlaneField.create(gpu, d.deformation, options.field.seed) : undefined;
    return new NerfRepresentation(gpu, field, options, deformation);
  }

  get radianceField(): RadianceField {
    return this.field;
  }

  /** Every block, frozen or not (Adam's groups are fixed for the run). */
  allParams(): ParamBlock[] {
    return [...this.field.params(), ...(this.deformation?.params() ?? [])];
  }

  /** 4D: freezes what the schedule leaves out at `step`; returns the names of the frozen blocks. */
  stage(step: number): Set<string> {
    const d = this.options.dynamic;
    const staticPhase = d?.schedule === 'static-then-dynamic' && step < d.staticSteps;
    const dynamicPhase = d?.schedule === 'static-then-dynamic' && step >= d.staticSteps;
    this.frozen = { canonical: dynamicPhase, deformation: staticPhase };
    const names = new Set<string>();
    if (this.frozen.canonical) NERF_BLOCKS.forEach((n) => names.add(n));
    if (this.frozen.deformation) this.deformation?.params().forEach((b) => names.add(b.name));
    return names;
  }

  /** 4D: adds the weighted plane total variation's gradient into the deformation's grads; returns the loss. */
  async regularise(_time: number, _dt: number, w: { planeTV: number }): Promise<Record<string, number>> {
    if (!this.deformation || !(w.planeTV > 0) || this.frozen.deformation) return {};
    this.regularisers ??= await DeformRegularisers.create(this.gpu);
    return { 'regulariser.planeTV': await this.regularisers.planeTV(this.deformation, w.planeTV) };
  }

  setLearningRate(name: string, lr: number): void {
    if (name === 'nerf.hash') this.field.lr.hash = lr;
    if (name === 'nerf.mlp') this.field.lr.mlp = lr;
  }

  /** The blocks that train this step (all of them for a static NeRF). */
  params(): ParamBlock[] {
    return [...(this.frozen.canonical ? [] : this.field.params()), ...(this.frozen.deformation ? [] : (this.deformation?.params() ?? []))];
  }

  async render(cameras: Camera[], options: RenderOptions = {}): Promise<RenderFrame> {
    if (options.distortion)
      throw new InputError("the 'nerf' representation cannot render depth distortion (RenderOptions.distortion); it is a splat-renderer output.");
    const run = async () => {
      const deformation = this.frozen.deformation ? undefined : this.deformation;
      const frame = await this.field.render(cameras, { ...options, stepSize: this.options.stepSize, deformation });
      await this.gpu.device.queue.onSubmittedWorkDone();
      return frame;
    };
    return this.timer ? this.timer.time('render', run) : run();
  }

  async backward(frame: RenderFrame, cotangents: RenderCotangents): Promise<void> {
    if (cotangents.distortion) throw new InputError("the 'nerf' representation has no depth distortion to take a 'distortion' cotangent.");
    // A frame rendered without normals has the constant zero as its normal image, whose gradient
    // is zero: drop a cotangent on it (e.g. geometry's, all zeros, when its normalWeight is 0).
    const cot = (frame as NerfFrame).settings.normals ? cotangents : { ...cotangents, normal: undefined };
    const run = async () => {
      await this.field.backward(frame as NerfFrame, cot);
      await this.gpu.device.queue.onSubmittedWorkDone();
    };
    return this.timer ? this.timer.time('backward', run) : run();
  }

  zeroGrads(encoder: GPUCommandEncoder): void {
    this.field.zeroGrads(encoder);
    this.deformation?.zeroGrads(encoder);
  }

  /** Refreshes the occupancy grid on its schedule (after optimisation step `step`); true when it ran. */
  async afterStep(step: number, seed: number): Promise<boolean> {
    const every = this.options.occupancyEvery;
    if (every <= 0 || (step + 1) % every !== 0) return false;
    await this.field.updateOccupancy({ threshold: this.options.occupancyThreshold, seed: mixSeed(seed, step, OCCUPANCY_STREAM) });
    return true;
  }

  async exportState(): Promise<Record<string, unknown>> {
    const state = (await this.field.toState()) as unknown as Record<string, unknown>;
    if (this.deformation) state.deformation = await this.deformation.toState();
    return state;
  }

  /** Restores a checkpoint's field (parameters and occupancy grid) and deformation; the current field is released. */
  async importState(state: Record<string, unknown>): Promise<void> {
    const next = await RadianceField.fromState(this.gpu, state as unknown as RadianceFieldState, this.field.lr);
    if (this.deformation) this.deformation.fromState(state.deformation as HexPlaneState);
    this.field.destroy();
    this.field = next;
  }

  /** mesh.glb (marching cubes of the density) and result.glb / result.ply (splats sampled from the field). */
  async writeOutputs(outDir: string, seed: number): Promise<string[]> {
    const o = this.options;
    const mesh = await radianceFieldToMesh(this.field, { resolution: o.meshResolution, isoDensity: o.isoDensity });
    const meshPath = join(outDir, 'mesh.glb');
    await writeFileAtomic(meshPath, nerfMeshGlb(mesh, 'nerf'));
    const splats = await radianceFieldToGaussians(this.field, { count: o.exportSplats, seed });
    this.exportedSplats = splats.count;
    const files = [meshPath];
    for (const name of ['result.glb', 'result.ply']) {
      await saveGaussians(join(outDir, name), splats);
      files.push(join(outDir, name));
    }
    const d = this.options.dynamic;
    if (d && this.deformation) {
      // 4D: one mesh per frame time, the field seen through that time's warp.
      await mkdir(join(outDir, 'frames'), { recursive: true });
      for (let f = 0; f < d.frames; f++) {
        const time = d.frames > 1 ? f / (d.frames - 1) : 0;
        const warp = (p: Float32Array) => warpPoints(this.gpu, this.deformation!, p, time);
        const frame = await radianceFieldToMesh(this.field, { resolution: o.meshResolution, isoDensity: o.isoDensity, warp });
        const path = join(outDir, 'frames', `mesh_${String(f).padStart(3, '0')}.glb`);
        await writeFileAtomic(path, nerfMeshGlb(frame, `nerf t=${time.toFixed(3)}`));
        files.push(path);
      }
    }
    return files;
  }

  destroy(): void {
    this.field.destroy();
    this.deformation?.destroy();
  }
}
