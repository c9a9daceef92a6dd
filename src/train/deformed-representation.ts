/**
 * The 4D splat representation: canonical splats (a GaussianCloud with its GaussianGrads)
 * moved by a DeformationField and drawn by the SplatRenderer. A batch of cameras is split by
 * camera time; each time deforms the canonical splats once (field.forward) and renders its
 * views as one batch; the images are gathered back into the cameras' order.
 *
 * Backward runs, per time, the splat backward into gradients of the deformed splats and then
 * field.backward, which adds into the field's gradients and (through the deformation) into
 * the canonical gradients. Either side can be frozen, for DreamGaussian4D's static-then-
 * dynamic schedule (canonical first, then the field) or joint training.
 */
import { InputError } from '../errors.ts';
import type { Gpu } from '../gpu/gpu.ts';
import type { Camera } from '../math/camera.ts';
import type { RenderCotangents, RenderOptions } from '../render/types.ts';
import { SplatRenderer } from '../render/splat/splat-renderer.ts';
import type { SplatFrame } from '../render/splat/splat-frame.ts';
import { GaussianCloud, GaussianGrads } from '../scene/gaussian-cloud.ts';
import { emptyGaussians, type GaussianData } from '../scene/gaussian-data.ts';
import type { ParamBlock, RenderFrame, Representation } from '../scene/representation.ts';
import type { RewardSplats } from '../rewards/plugin.ts';
import type { CanonicalGrads, CanonicalSplats, DeformationField, DeformedSplats } from '../scene/deform/deformation-field.ts';
import { SPLAT_BLOCK_NAMES, blockWidth } from './splat-blocks.ts';
import type { RenderTimer } from './splat-representation.ts';

export interface Freeze {
  /** Leave the canonical splats out of params() and give them no gradient. */
  canonical?: boolean;
  /** Leave the field's blocks out of params(). */
  field?: boolean;
}

export interface DeformedSplatOptions {
  /** Adam learning rates of the canonical blocks by name (means, logScales, quats, opacityLogits, sh). */
  learningRates: Record<string, number>;
  freeze?: Freeze;
  /** Share a renderer (its kernels) with other representations; made here when omitted. */
  renderer?: SplatRenderer;
}

/** One camera time of a batch: its views, the deformed splats and their rendering. */
interface TimeGroup {
  time: number;
  /** Positions of this group's cameras in the batch. */
  views: number[];
  deformed: DeformedSplats;
  cloud: GaussianCloud;
  frame: SplatFrame;
}

// distortion only when rendered with `distortion: true`.
const IMAGE_CHANNELS = { rgb: 3, alpha: 1, depth: 1, normal: 3, distortion: 1 } as const;
type ImageName = keyof typeof IMAGE_CHANNELS;
const IMAGE_NAMES = Object.keys(IMAGE_CHANNELS) as ImageName[];

class DeformedRenderFrame implements RenderFrame {
  readonly views: number;
  readonly width: number;
  readonly height: number;
  readonly rgb: GPUBuffer;
  readonly alpha: GPUBuffer;
  readonly depth: GPUBuffer;
  readonly normal: GPUBuffer;
  readonly distortion?: GPUBuffer;
  private destroyed = false;

  constructor(
    readonly owner: DeformedSplatRepresentation,
    readonly cameras: Camera[],
    readonly groups: TimeGroup[],
    /** Gathered images; absent when one group holds the batch in order and its images are used as they are. */
    readonly gathered: Partial<Record<ImageName, GPUBuffer>> | null,
    private readonly release: (cloud: GaussianCloud) => void,
  ) {
    this.views = cameras.length;
    this.width = groups[0].frame.width;
    this.height = groups[0].frame.height;
    const images = gathered ?? groups[0].frame;
    this.rgb = images.rgb!;
    this.alpha = images.alpha!;
    this.depth = images.depth!;
    this.normal = images.normal!;
    this.distortion = images.distortion;
  }

  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    for (const g of this.groups) {
      g.frame.destroy();
      g.deformed.destroy();
      this.release(g.cloud);
    }
    if (this.gathered) for (const b of Object.values(this.gathered)) b?.destroy();
  }
}

export class DeformedSplatRepresentation implements Representation {
  readonly kind = 'splats' as const;
  timer?: RenderTimer;
  /** Gradients of the canonical splats. */
  readonly grads: GaussianGrads;
  private freeze: Required<Freeze>;
  /** Gradients of the deformed splats; their densification statistics accumulate over times and steps. */
  private readonly deformedGrads: GaussianGrads;
  /** Clouds that hold deformed splats for the renderer, reused between batches. */
  private readonly spareClouds: GaussianCloud[] = [];

  private constructor(
    private readonly gpu: Gpu,
    private readonly renderer: SplatRenderer,
    private readonly ownsRenderer: boolean,
    readonly cloud: GaussianCloud,
    readonly field: DeformationField,
    private readonly learningRates: Record<string, number>,
    freeze: Freeze,
  ) {
    this.freeze = { canonical: freeze.canonical ?? false, field: freeze.field ?? false };
    this.grads = GaussianGrads.create(gpu, cloud.count, cloud.shDegree);
    this.deformedGrads = GaussianGrads.create(gpu, cloud.count, cloud.shDegree);
  }

  /** Takes ownership of `field`; the canonical splats are uploaded from `canonical`. */
  static async create(gpu: Gpu, canonical: GaussianData, field: DeformationField, options: DeformedSplatOptions): Promise<DeformedSplatRepresentation> {
    const renderer = options.renderer ?? (await SplatRenderer.create(gpu));
    const cloud = GaussianCloud.fromData(gpu, canonical);
    return new DeformedSplatRepresentation(gpu, renderer, !options.renderer, cloud, field, { ...options.learningRates }, options.freeze ?? {});
  }

  /** Switches what trains (a static-then-dynamic schedule flips this between stages). */
  setFrozen(freeze: Freeze): void {
    this.freeze = { canonical: freeze.canonical ?? this.freeze.canonical, field: freeze.field ?? this.freeze.field };
  }

  get frozen(): Readonly<Required<Freeze>> {
    return this.freeze;
  }

  /** Densification statistics (gradNorm2d, visibleCount, ...) of the deformed splats, per canonical splat. */
  get densifyStats(): GaussianGrads {
    return this.deformedGrads;
  }

  setLearningRate(name: string, lr: number): void {
    this.learningRates[name] = lr;
  }

  get canonicalSplats(): CanonicalSplats {
    const c = this.cloud;
    return { count: c.count, shDegree: c.shDegree, means: c.means, quats: c.quats, logScales: c.logScales, opacityLogits: c.opacityLogits, sh: c.sh };
  }

  params(): ParamBlock[] {
    const blocks: ParamBlock[] = [];
    if (!this.freeze.canonical) {
      for (const name of SPLAT_BLOCK_NAMES)
        blocks.push({
          name,
          param: this.cloud[name],
          grad: this.grads[name],
          count: this.cloud.count * blockWidth(name, this.cloud.shCoeffs),
          lr: this.learningRates[name] ?? 0,
        });
    }
    if (!this.freeze.field) blocks.push(...this.field.params());
    return blocks;
  }

  async render(cameras: Camera[], options: RenderOptions = {}): Promise<RenderFrame> {
    const run = () => this.renderBatch(cameras, options);
    return this.timer ? this.timer.time('render', run) : run();
  }

  async backward(frame: RenderFrame, cotangents: RenderCotangents): Promise<void> {
    if (!(frame instanceof DeformedRenderFrame) || frame.owner !== this)
      throw new InputError('DeformedSplatRepresentation.backward needs a frame rendered by the same representation.');
    const run = () => this.backwardBatch(frame, cotangents);
    return this.timer ? this.timer.time('backward', run) : run();
  }

  zeroGrads(encoder: GPUCommandEncoder): void {
    this.grads.zero(encoder);
    this.field.zeroGrads(encoder);
  }

  /**
   * The splats deformed to the frame's time when all its cameras share one time (they made
   * every view; the frame owns them, so they live as long as it does). A batch at several times
   * has no one set: each time's splats made only some views, and the canonical splats made
   * none, so judging either against the whole batch's hull would be wrong; undefined then.
   */
  rewardSplats(frame: RenderFrame): RewardSplats | undefined {
    if (!(frame instanceof DeformedRenderFrame) || frame.owner !== this || frame.groups.length !== 1) return undefined;
    const { cloud } = frame.groups[0];
    return cloud.count ? { count: cloud.count, means: cloud.means, logScales: cloud.logScales, opacityLogits: cloud.opacityLogits } : undefined;
  }

  destroy(): void {
    this.cloud.destroy();
    this.grads.destroy();
    this.deformedGrads.destroy();
    for (const c of this.spareClouds.splice(0)) c.destroy();
    this.field.destroy();
    if (this.ownsRenderer) this.renderer.destroy();
  }

  // ------------------------------------------------------------------------------ internals

  private takeCloud(): GaussianCloud {
    return this.spareClouds.pop() ?? GaussianCloud.fromData(this.gpu, emptyGaussians(this.cloud.count, this.cloud.shDegree));
  }

  private async renderBatch(cameras: Camera[], options: RenderOptions): Promise<DeformedRenderFrame> {
    if (cameras.length === 0) throw new InputError('render needs at least one camera.');
    const byTime = new Map<number, number[]>();
    cameras.forEach((cam, i) => {
      const t = cam.time ?? 0;
      if (!Number.isFinite(t)) throw new InputError(`camera ${i} has time ${t}; camera times must be finite numbers.`);
      byTime.set(t, [...(byTime.get(t) ?? []), i]);
    });
    const gpu = this.gpu;
    const canonical = this.canonicalSplats;
    const c = this.cloud;
    const K3 = c.shCoeffs * 3;
    const groups: TimeGroup[] = [];
    const release = (cloud: GaussianCloud) => this.spareClouds.push(cloud);
    try {
      // Deform once per time and copy into clouds the renderer can draw (it takes a GaussianCloud).
      const enc = gpu.device.createCommandEncoder({ label: 'deform splats' });
      const pending: Omit<TimeGroup, 'frame'>[] = [];
      for (const [time, views] of byTime) {
        const deformed = this.field.forward(enc, time, canonical);
        const cloud = this.takeCloud();
        pending.push({ time, views, deformed, cloud });
        const n = c.count;
        enc.copyBufferToBuffer(deformed.means, 0, cloud.means, 0, n * 12);
        enc.copyBufferToBuffer(deformed.quats, 0, cloud.quats, 0, n * 16);
        enc.copyBufferToBuffer(deformed.logScales, 0, cloud.logScales, 0, n * 12);
        enc.copyBufferToBuffer(deformed.opacityLogits ?? c.opacityLogits, 0, cloud.opacityLogits, 0, n * 4);
        enc.copyBufferToBuffer(deformed.sh ?? c.sh, 0, cloud.sh, 0, n * K3 * 4);
      }
      await gpu.submit('deform splats', enc);
      for (const p of pending) {
        try {
          groups.push({ ...p, frame: await this.renderer.forward(p.cloud, p.views.map((i) => cameras[i]), options) });
        } catch (e) {
          for (const q of pending.slice(pending.indexOf(p))) {
            q.deformed.destroy();
            release(q.cloud);
          }
          throw e;
        }
      }
      const gathered = groups.length === 1 ? null : await this.gather(groups, cameras.length);
      await gpu.device.queue.onSubmittedWorkDone();
      return new DeformedRenderFrame(this, cameras, groups, gathered, release);
    } catch (e) {
      for (const g of groups) {
        g.frame.destroy();
        g.deformed.destroy();
        release(g.cloud);
      }
      throw e;
    }
  }

  /** Copies each group's views into batch-ordered images. */
  private async gather(groups: TimeGroup[], views: number): Promise<Partial<Record<ImageName, GPUBuffer>>> {
    const { width, height } = groups[0].frame;
    const pixels = width * height;
    const out: Partial<Record<ImageName, GPUBuffer>> = {};
    const enc = this.gpu.device.createCommandEncoder({ label: 'gather views by time' });
    for (const name of IMAGE_NAMES) {
      if (!groups[0].frame[name]) continue; // distortion was not asked for
      const bytes = pixels * IMAGE_CHANNELS[name] * 4;
      const dst = (out[name] = this.gpu.buffer(`deformed image ${name}`, views * bytes));
      for (const g of groups) g.views.forEach((v, k) => enc.copyBufferToBuffer(g.frame[name]!, k * bytes, dst, v * bytes, bytes));
    }
    try {
      await this.gpu.submit('gather views by time', enc);
    } catch (e) {
      for (const b of Object.values(out)) b?.destroy();
      throw e;
    }
    return out;
  }

  private async backwardBatch(frame: DeformedRenderFrame, cotangents: RenderCotangents): Promise<void> {
    const gpu = this.gpu;
    const pixels = frame.width * frame.height;
    const canonical = this.canonicalSplats;
    const dg = this.deformedGrads;
    const deformedCot = { means: dg.means, quats: dg.quats, logScales: dg.logScales, opacityLogits: dg.opacityLogits, sh: dg.sh };
    const canonicalGrads: CanonicalGrads = this.freeze.canonical
      ? {}
      : { means: this.grads.means, quats: this.grads.quats, logScales: this.grads.logScales, opacityLogits: this.grads.opacityLogits, sh: this.grads.sh };
    for (const name of IMAGE_NAMES) {
      const b = cotangents[name];
      const need = frame.views * pixels * IMAGE_CHANNELS[name] * 4;
      if (b && b.size < need) throw new InputError(`backward: cotangent '${name}' ('${b.label}') has ${b.size} bytes; the frame needs ${need}.`);
    }
    for (const g of frame.groups) {
      // Scatter the batch cotangents to this group's views (or use them as they are for a single, ordered group).
      const scattered: GPUBuffer[] = [];
      let groupCot: RenderCotangents = cotangents;
      const enc = gpu.device.createCommandEncoder({ label: 'deformed backward: scatter cotangents' });
      if (frame.gathered) {
        groupCot = {};
        for (const name of IMAGE_NAMES) {
          const src = cotangents[name];
          if (!src) continue;
          const bytes = pixels * IMAGE_CHANNELS[name] * 4;
          const dst = gpu.buffer(`deformed cotangent ${name}`, g.views.length * bytes);
          scattered.push(dst);
          g.views.forEach((v, k) => enc.copyBufferToBuffer(src, v * bytes, dst, k * bytes, bytes));
          groupCot[name] = dst;
        }
      }
      for (const b of dg.params) enc.clearBuffer(b);
      try {
        await gpu.submit('deformed backward: scatter cotangents', enc);
        await this.renderer.backward(g.frame, groupCot, dg);
        const enc2 = gpu.device.createCommandEncoder({ label: 'deformed backward: field' });
        this.field.backward(enc2, g.deformed, canonical, deformedCot, canonicalGrads);
        await gpu.submit('deformed backward: field', enc2);
        await gpu.device.queue.onSubmittedWorkDone();
      } finally {
        for (const b of scattered) b.destroy();
      }
    }
  }
}
