/**
 * The differentiable 3D Gaussian-splat renderer on WebGPU (rasterizers.md §1): a batch of
 * views goes through project_fwd, depth sort, tile binning (prefix sum, emit, stable
 * (view, tile) sort, ranges) and rasterize_fwd; the backward replays the frame with
 * rasterize_bwd, then project_bwd, color_bwd and stats_bwd add into GaussianGrads.
 */
import type { Gpu } from '../../gpu/gpu.ts';
import type { PassProfiler } from '../../gpu/profiler.ts';
import { PrefixSum, subgroupLayoutSize } from '../../gpu/prefix-sum.ts';
import { bitsForMaxKey, RadixSorter } from '../../gpu/radix-sort.ts';
import { InputError } from '../../errors.ts';
import type { Camera } from '../../math/camera.ts';
import type { GaussianCloud, GaussianGrads } from '../../scene/gaussian-cloud.ts';
import type { RenderCotangents, RenderOptions } from '../types.ts';
import { batchShape, NUM_ISECTS_WORD, packFrameUniform, resolveOptions } from './frame-uniform.ts';
import { SplatFrame } from './splat-frame.ts';
import { SplatDistortion } from './distortion.ts';

const PROJECTED_BYTES = 64;
const GRAD2D_BYTES = 64;

export interface SplatRendererOptions {
  /**
   * Reduce gradients with subgroupAdd in rasterize_bwd, whose 8-lane workgroup must then be
   * one subgroup. Default: when the device's subgroups are at least 8 wide (probed);
   * otherwise per-lane slots in workgroup memory.
   */
  subgroups?: boolean;
}

interface Kernels {
  project: GPUComputePipeline;
  prepare: GPUComputePipeline;
  gather: GPUComputePipeline;
  emit: GPUComputePipeline;
  ranges: GPUComputePipeline;
  rasterize: GPUComputePipeline;
  /** rasterize_bwd with the depth and normal channels, and without (RGB and alpha only). */
  rasterizeBwd: GPUComputePipeline;
  rasterizeBwdRgb: GPUComputePipeline;
  projectBwd: GPUComputePipeline;
  colorBwd: GPUComputePipeline;
  statsBwd: GPUComputePipeline;
}

export class SplatRenderer {
  readonly gpu: Gpu;
  readonly usesSubgroups: boolean;
  /** When set, passes get GPU timestamps under the labels project, bin, rasterize, rasterize_bwd, project_bwd. */
  profiler: PassProfiler | null = null;
  private readonly k: Kernels;
  private readonly sorter: RadixSorter;
  private readonly scan: PrefixSum;
  /** Built on the first render that asks for distortion. */
  private distortionPass?: Promise<SplatDistortion>;

  private constructor(gpu: Gpu, k: Kernels, sorter: RadixSorter, scan: PrefixSum, subgroups: boolean) {
    this.gpu = gpu;
    this.k = k;
    this.sorter = sorter;
    this.scan = scan;
    this.usesSubgroups = subgroups;
  }

  static async create(gpu: Gpu, options: SplatRendererOptions = {}): Promise<SplatRenderer> {
    const subgroups = (options.subgroups ?? true) && gpu.hasSubgroups && (await subgroupLayoutSize(gpu)) >= 8;
    const kernel = (file: string, entry: string, defines: Record<string, boolean> = {}) => gpu.kernel({ file: `splat/${file}`, entry, defines });
    const [project, prepare, gather, emit, ranges, rasterize, rasterizeBwd, rasterizeBwdRgb, projectBwd, colorBwd, statsBwd, sorter, scan] = await Promise.all([
      kernel('project_fwd.wgsl', 'project_fwd'),
      kernel('bin.wgsl', 'bin_prepare_fwd'),
      kernel('bin_gather.wgsl', 'bin_gather_fwd'),
      kernel('bin_emit.wgsl', 'bin_emit_fwd'),
      kernel('tile_ranges.wgsl', 'tile_ranges_fwd'),
      kernel('rasterize_fwd.wgsl', 'rasterize_fwd', { SUBGROUPS: subgroups }),
      kernel('rasterize_bwd.wgsl', 'rasterize_bwd', { SUBGROUPS: subgroups, DEPTH_NORMAL: true }),
      kernel('rasterize_bwd.wgsl', 'rasterize_bwd', { SUBGROUPS: subgroups, DEPTH_NORMAL: false }),
      kernel('project_bwd.wgsl', 'project_bwd'),
      kernel('color_bwd.wgsl', 'color_bwd'),
      kernel('stats_bwd.wgsl', 'stats_bwd'),
      RadixSorter.create(gpu),
      PrefixSum.create(gpu),
    ]);
    const k = { project, prepare, gather, emit, ranges, rasterize, rasterizeBwd, rasterizeBwdRgb, projectBwd, colorBwd, statsBwd };
    return new SplatRenderer(gpu, k, sorter, scan, subgroups);
  }

  private ts(label: string): GPUComputePassTimestampWrites | undefined {
    return this.profiler?.pass(label);
  }

  async forward(cloud: GaussianCloud, cameras: Camera[], options?: RenderOptions): Promise<SplatFrame> {
    const gpu = this.gpu;
    const shape = batchShape(cameras);
    const opts = resolveOptions(options, cloud.shDegree);
    const n = cloud.count;
    const vn = shape.views * n;
    const pixels = shape.views * shape.width * shape.height;
    const tiles = shape.tilesX * shape.tilesY;
    const what = 'the number of splats, views per batch or the image size';
    gpu.checkSize('splat projected', vn * PROJECTED_BYTES, what);
    gpu.checkSize('splat gradients (screen space)', vn * GRAD2D_BYTES, what);
    gpu.checkSize('image rgb', pixels * 12, 'the views per batch or the image size');

    const uniformBytes = packFrameUniform(shape, cameras, n, cloud.shCoeffs, opts);
    const uniform = gpu.uniform('splat frame', new Uint8Array(uniformBytes));
    const created: GPUBuffer[] = [];
    const buf = (label: string, bytes: number) => {
      const b = gpu.buffer(label, bytes);
      created.push(b);
      return b;
    };
    try {
      const projected = buf('splat projected', Math.max(vn, 1) * PROJECTED_BYTES); // vec4 bindings need 16+ bytes
      const tileCounts = buf('splat tile counts', vn * 4);
      const radii = buf('splat radii', vn * 4);
      const visible = buf('splat visible', vn * 4);
      const depthKeys = buf('splat depth keys', vn * 4);
      const depthIds = buf('splat depth-sorted ids', vn * 4);
      const sortedCounts = buf('splat sorted tile counts', vn * 4);
      const offsets = buf('splat intersection offsets', (vn + 1) * 4);

      let numIsects = 0;
      // The depth-sorted ids: `depthIds` itself, since it allows copies into it (see RadixSorter.sort).
      let depthSorted = depthIds;
      if (vn > 0) {
        const enc = gpu.device.createCommandEncoder({ label: 'splat project + depth sort' });
        const groups = (threads: number, size: number) => Math.ceil(threads / size);
        gpu.dispatch(enc, this.k.project, [uniform, cloud.means, cloud.logScales, cloud.quats, cloud.opacityLogits, cloud.sh, projected, tileCounts, radii], groups(vn, 64), this.ts('project'));
        gpu.dispatch(enc, this.k.prepare, [uniform, projected, radii, depthKeys, depthIds, visible], groups(vn, 256), this.ts('bin'));
        depthSorted = this.sorter.sort(enc, depthKeys, depthIds, vn, 32).values;
        gpu.dispatch(enc, this.k.gather, [uniform, depthSorted, tileCounts, sortedCounts], groups(vn, 256), this.ts('bin'));
        this.scan.scanExclusive(enc, sortedCounts, offsets, vn);
        await gpu.submit('splat forward: project, depth sort, tile counts', enc);
        numIsects = (await gpu.readU32(offsets, 1, vn))[0];
      }
      gpu.checkSize('splat intersections', numIsects * 4, 'the number of splats, their size on screen, the views per batch or the image size');
      gpu.write(uniform, new Uint32Array([numIsects]), NUM_ISECTS_WORD * 4);

      const isectKeys = buf('splat intersection keys', numIsects * 4);
      const isectIds = gpu.buffer('splat intersection ids', numIsects * 4);
      const ranges = gpu.buffer('splat tile ranges', shape.views * tiles * 8);
      const rgb = gpu.buffer('image rgb', pixels * 12);
      const alpha = gpu.buffer('image alpha', pixels * 4);
      const depth = gpu.buffer('image depth', pixels * 4);
      const normal = gpu.buffer('image normal', pixels * 12);
      const pixelState = gpu.buffer('splat pixel state', pixels * 8);
      const frameBuffers = [isectIds, ranges, rgb, alpha, depth, normal, pixelState];
      try {
        const enc = gpu.device.createCommandEncoder({ label: 'splat binning + rasterize' });
        if (numIsects > 0) {
          gpu.dispatch(enc, this.k.emit, [uniform, depthSorted, offsets, projected, isectKeys, isectIds], Math.ceil(vn / 256), this.ts('bin'));
          // Keys run to views * tiles inclusive (the padding key, see bin_emit.wgsl).
          const keyBits = bitsForMaxKey(shape.views * tiles);
          this.sorter.sort(enc, isectKeys, isectIds, numIsects, keyBits);
          gpu.dispatch(enc, this.k.ranges, [uniform, isectKeys, ranges], Math.ceil(numIsects / 256), this.ts('bin'));
        }
        gpu.dispatch(enc, this.k.rasterize, [uniform, ranges, isectIds, projected, rgb, alpha, depth, normal, pixelState], shape.views * tiles, this.ts('rasterize'));
        await gpu.submit('splat forward: binning and rasterize', enc);
      } catch (e) {
        for (const b of frameBuffers) b.destroy();
        throw e;
      }
      // Keep what the frame owns; drop the temporaries once the queue has used them.
      const keep = new Set([projected, radii, visible]);
      const temporaries = created.filter((b) => !keep.has(b));
      await gpu.device.queue.onSubmittedWorkDone();
      for (const b of temporaries) b.destroy();
      const frame = new SplatFrame(
        cameras,
        { rgb, alpha, depth, normal, radii, visible },
        { cloud, shape, options: opts, uniform, projected, isectIds, numIsects, ranges, pixelState },
      );
      if (options?.distortion) await this.addDistortion(frame, options);
      return frame;
    } catch (e) {
      for (const b of created) b.destroy();
      uniform.destroy();
      throw e;
    }
  }

  /** Adds the gradients of the objective whose image cotangents are given into `grads`. */
  async backward(frame: SplatFrame, cotangents: RenderCotangents, grads: GaussianGrads): Promise<void> {
    const gpu = this.gpu;
    const s = frame.state;
    const cloud = s.cloud;
    if (grads.count !== cloud.count || grads.shDegree !== cloud.shDegree)
      throw new InputError(`splat backward: gradients are for ${grads.count} splats of SH degree ${grads.shDegree}, the frame's cloud has ${cloud.count} of degree ${cloud.shDegree}.`);
    const n = cloud.count;
    if (n === 0) return;
    const pixels = frame.pixels;
    const vn = s.shape.views * n;
    const tiles = s.shape.tilesX * s.shape.tilesY;
    // Cotangents packed [rgb P*3][alpha P][depth P][normal P*3] so rasterize_bwd binds one buffer.
    const packed = gpu.buffer('splat packed cotangents', pixels * 32);
    const grad2d = gpu.buffer('splat gradients (screen space)', vn * GRAD2D_BYTES);
    try {
      const enc = gpu.device.createCommandEncoder({ label: 'splat backward' });
      const parts: [GPUBuffer | undefined, number, number][] = [
        [cotangents.rgb, 0, pixels * 12],
        [cotangents.alpha, pixels * 12, pixels * 4],
        [cotangents.depth, pixels * 16, pixels * 4],
        [cotangents.normal, pixels * 20, pixels * 12],
      ];
      for (const [src, offset, bytes] of parts) {
        if (src && src.size < bytes) throw new InputError(`splat backward: cotangent buffer '${src.label}' has ${src.size} bytes, the frame needs ${bytes}.`);
        if (src) enc.copyBufferToBuffer(src, 0, packed, offset, bytes);
      }
      const rasterizeBwd = cotangents.depth || cotangents.normal ? this.k.rasterizeBwd : this.k.rasterizeBwdRgb;
      gpu.dispatch(enc, rasterizeBwd, [s.uniform, s.ranges, s.isectIds, s.projected, s.pixelState, packed, grad2d], s.shape.views * tiles, this.ts('rasterize_bwd'));
      if (cotangents.distortion) await this.recordDistortionBackward(enc, frame, cotangents.distortion, grad2d);
      const groups = Math.ceil(n / 64);
      gpu.dispatch(enc, this.k.projectBwd, [s.uniform, cloud.means, cloud.logScales, cloud.quats, cloud.opacityLogits, grad2d, grads.means, grads.logScales, grads.quats], groups, this.ts('project_bwd'));
      gpu.dispatch(enc, this.k.colorBwd, [s.uniform, cloud.means, cloud.sh, cloud.opacityLogits, s.projected, grad2d, grads.sh, grads.means, grads.opacityLogits], groups, this.ts('project_bwd'));
      gpu.dispatch(enc, this.k.statsBwd, [s.uniform, grad2d, frame.radii, grads.gradNorm2d, grads.absGradNorm2d, grads.visibleCount, grads.maxRadius], groups, this.ts('project_bwd'));
      await gpu.submit('splat backward', enc);
      await gpu.device.queue.onSubmittedWorkDone();
    } finally {
      packed.destroy();
      grad2d.destroy();
    }
  }

  private async addDistortion(frame: SplatFrame, options: RenderOptions): Promise<void> {
    try {
      this.distortionPass ??= SplatDistortion.create(this.gpu);
      frame.state.distortion = await (await this.distortionPass).forward(frame.state, options);
    } catch (e) {
      frame.destroy();
      throw e;
    }
  }

  private async recordDistortionBackward(enc: GPUCommandEncoder, frame: SplatFrame, cotangent: GPUBuffer, grad2d: GPUBuffer): Promise<void> {
    const d = frame.state.distortion;
    if (!d) throw new InputError("splat backward: a 'distortion' cotangent needs a frame rendered with { distortion: true }.");
    (await this.distortionPass!).recordBackward(enc, frame.state, d, cotangent, grad2d);
  }

  destroy(): void {
    this.sorter.destroy();
    this.scan.destroy();
  }
}
