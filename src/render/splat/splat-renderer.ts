/**
 * The differentiable 3D Gaussian-splat renderer on WebGPU (rasterizers.md §1): a batch of
 * views goes through project_fwd, depth sort, tile binning (prefix sum, emit, stable
 * (view, tile) sort, ranges) and rasterize_fwd; the backward replays the frame with
 * rasterize_bwd, then project_bwd, color_bwd and stats_bwd add into GaussianGrads.
 * Batches whose [views][splats] buffers pass the binding limit run in chunks of views into
 * one frame; SH buffers over it are bound in two ranges (SH_SPLIT kernels).
 */
import type { Binding, Gpu } from '../../gpu/gpu.ts';
import type { PassProfiler } from '../../gpu/profiler.ts';
import { PrefixSum, subgroupLayoutSize } from '../../gpu/prefix-sum.ts';
import { bitsForMaxKey, RadixSorter } from '../../gpu/radix-sort.ts';
import { InputError } from '../../errors.ts';
import type { Camera } from '../../math/camera.ts';
import type { GaussianCloud, GaussianGrads } from '../../scene/gaussian-cloud.ts';
import type { RenderCotangents, RenderOptions } from '../types.ts';
import { batchShape, NUM_ISECTS_WORD, NUM_VISIBLE_WORD, packFrameUniform, resolveOptions, type BatchShape, type ChunkPlacement, type ResolvedOptions } from './frame-uniform.ts';
import { destroyChunk, SplatFrame, type SplatChunk } from './splat-frame.ts';
import { SplatDistortion } from './distortion.ts';

const PROJECTED_BYTES = 64;
const GRAD2D_BYTES = 64;

/** The two ranges of an SH buffer bound in two: [0, bytes) and the rest. */
function shBindings(buffer: GPUBuffer, bytes: number): [GPUBufferBinding, GPUBufferBinding] {
  return [
    { buffer, offset: 0, size: bytes },
    { buffer, offset: bytes, size: buffer.size - bytes },
  ];
}

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
  compact: GPUComputePipeline;
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
    const [project, prepare, compact, gather, emit, ranges, rasterize, rasterizeBwd, rasterizeBwdRgb, projectBwd, colorBwd, statsBwd, sorter, scan] = await Promise.all([
      kernel('project_fwd.wgsl', 'project_fwd'),
      kernel('bin.wgsl', 'bin_prepare_fwd', { SUBGROUPS: subgroups }),
      kernel('bin.wgsl', 'bin_compact_fwd'),
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
    const k = { project, prepare, compact, gather, emit, ranges, rasterize, rasterizeBwd, rasterizeBwdRgb, projectBwd, colorBwd, statsBwd };
    return new SplatRenderer(gpu, k, sorter, scan, subgroups);
  }

  private ts(label: string): GPUComputePassTimestampWrites | undefined {
    return this.profiler?.pass(label);
  }

  /**
   * Views per chunk: the [views][splats] buffers (projected splats, screen-space gradients)
   * of a chunk must fit one binding; a batch over that is rendered chunk by chunk into one
   * frame. One view that does not fit gets the clear limit error.
   */
  private viewsPerChunk(n: number, views: number): number {
    const what = 'the number of splats';
    this.gpu.checkSize('splat projected (one view)', n * PROJECTED_BYTES, what);
    return Math.max(1, Math.min(views, Math.floor(this.gpu.maxBindingBytes / Math.max(n * PROJECTED_BYTES, 1))));
  }

  /**
   * How the SH buffers are bound: whole, or in two ranges (the second at an offset the
   * device allows) when they pass the binding limit; more than two ranges' worth is refused.
   */
  private shRanges(cloud: GaussianCloud): { split: number; bytes: number } | null {
    const perSplat = cloud.shCoeffs * 12;
    const total = cloud.count * perSplat;
    const ranges = this.gpu.bindingRanges(total, perSplat);
    if (ranges.length === 1) return null;
    if (ranges.length > 2)
      throw new InputError(
        `Buffer 'splat sh' needs ${total} bytes, over two bindings of this device's maxStorageBufferBindingSize (${this.gpu.maxBindingBytes} bytes); reduce the number of splats or the SH degree.`,
      );
    return { split: ranges[1].offset / perSplat, bytes: ranges[1].offset };
  }

  async forward(cloud: GaussianCloud, cameras: Camera[], options?: RenderOptions): Promise<SplatFrame> {
    const gpu = this.gpu;
    const shape = batchShape(cameras);
    const opts = resolveOptions(options, cloud.shDegree);
    const n = cloud.count;
    const pixels = shape.views * shape.width * shape.height;
    gpu.checkSize('image rgb', pixels * 12, 'the views per batch or the image size');
    const perChunk = this.viewsPerChunk(n, shape.views);
    const sh = this.shRanges(cloud);
    const images = {
      rgb: gpu.buffer('image rgb', pixels * 12),
      alpha: gpu.buffer('image alpha', pixels * 4),
      depth: gpu.buffer('image depth', pixels * 4),
      normal: gpu.buffer('image normal', pixels * 12),
      pixelState: gpu.buffer('splat pixel state', pixels * 8),
    };
    const chunks: SplatChunk[] = [];
    const wholeRadii: GPUBuffer[] = [];
    const destroyAll = () => {
      for (const b of Object.values(images)) b.destroy();
      for (const c of chunks) destroyChunk(c);
      for (const b of wholeRadii) b.destroy();
    };
    try {
      for (let v0 = 0; v0 < shape.views; v0 += perChunk) {
        const cams = cameras.slice(v0, v0 + perChunk);
        const place = { viewBase: v0, totalViews: shape.views, shSplit: sh ? sh.split : n };
        chunks.push(await this.forwardChunk(cloud, cams, { ...shape, views: cams.length }, opts, place, sh, images));
      }
      // One chunk: its radii and visibility are the frame's; else they are gathered.
      let radii = chunks[0].radii;
      let visible = chunks[0].visible;
      if (chunks.length > 1) {
        radii = gpu.buffer('splat radii', shape.views * n * 4);
        visible = gpu.buffer('splat visible', shape.views * n * 4);
        wholeRadii.push(radii, visible);
        const enc = gpu.device.createCommandEncoder({ label: 'splat radii of all chunks' });
        for (const c of chunks) {
          enc.copyBufferToBuffer(c.radii, 0, radii, c.viewBase * n * 4, c.views * n * 4);
          enc.copyBufferToBuffer(c.visible, 0, visible, c.viewBase * n * 4, c.views * n * 4);
        }
        await gpu.submit('splat radii of all chunks', enc);
      }
      const c0 = chunks[0];
      const frame = new SplatFrame(
        cameras,
        { rgb: images.rgb, alpha: images.alpha, depth: images.depth, normal: images.normal, radii, visible },
        {
          cloud, shape, options: opts, pixelState: images.pixelState, chunks, shSplit: sh ? sh.split : n,
          uniform: c0.uniform, projected: c0.projected, isectIds: c0.isectIds, ranges: c0.ranges,
          numIsects: chunks.reduce((a, c) => a + c.numIsects, 0),
        },
      );
      if (options?.distortion) await this.addDistortion(frame, options);
      return frame;
    } catch (e) {
      destroyAll();
      throw e;
    }
  }

  /** Projects, bins and rasterizes the views of one chunk into the frame's images. */
  private async forwardChunk(
    cloud: GaussianCloud,
    cameras: Camera[],
    shape: BatchShape,
    opts: ResolvedOptions,
    place: ChunkPlacement,
    sh: { split: number; bytes: number } | null,
    images: { rgb: GPUBuffer; alpha: GPUBuffer; depth: GPUBuffer; normal: GPUBuffer; pixelState: GPUBuffer },
  ): Promise<SplatChunk> {
    const gpu = this.gpu;
    const n = cloud.count;
    const vn = shape.views * n;
    const tiles = shape.tilesX * shape.tilesY;
    const uniform = gpu.uniform('splat frame', new Uint8Array(packFrameUniform(shape, cameras, n, cloud.shCoeffs, opts, place)));
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
      // [min, max] depth key of the visible pairs, their count, their total of tile counts.
      const visibleInfo = buf('splat visible depth range and count', 16);

      let numIsects = 0;
      let numVisible = 0;
      let depthBits = 0;
      let minKey = 0;
      let maxKey = 0;
      // The depth-sorted ids: `depthIds` itself, since it allows copies into it (see RadixSorter.sort).
      let depthSorted = depthIds;
      const groups = (threads: number, size: number) => Math.ceil(threads / size);
      if (vn > 0) {
        // Project, flag the visible pairs, place them (prefix sum), take their depth range and
        // their number of intersections: one readback then sizes everything that follows.
        const enc = gpu.device.createCommandEncoder({ label: 'splat project + visible pairs' });
        const params = [cloud.means, cloud.logScales, cloud.quats, cloud.opacityLogits];
        if (sh) {
          const project = await this.gpu.kernel({ file: 'splat/project_fwd.wgsl', entry: 'project_fwd', defines: { SH_SPLIT: true } });
          const [lo, hi] = shBindings(cloud.sh, sh.bytes);
          gpu.dispatch(enc, project, [uniform, ...params, lo, projected, tileCounts, radii, hi], groups(n, 64), this.ts('project'));
        } else gpu.dispatch(enc, this.k.project, [uniform, ...params, cloud.sh, projected, tileCounts, radii], groups(n, 64), this.ts('project'));
        gpu.write(visibleInfo, new Uint32Array([0xffffffff, 0, 0, 0]));
        gpu.dispatch(enc, this.k.prepare, [uniform, projected, radii, visible, visibleInfo, tileCounts], groups(vn, 256), this.ts('bin'));
        this.scan.scanExclusive(enc, visible, offsets, vn);
        enc.copyBufferToBuffer(offsets, vn * 4, visibleInfo, 8, 4);
        await gpu.submit('splat forward: project, visible pairs', enc);
        [minKey, maxKey, numVisible, numIsects] = await gpu.readU32(visibleInfo, 4);
        gpu.write(uniform, new Uint32Array([numVisible]), NUM_VISIBLE_WORD * 4);
      }
      gpu.checkSize('splat intersections', numIsects * 4, 'the number of splats, their size on screen, the views per batch or the image size');
      gpu.write(uniform, new Uint32Array([numIsects]), NUM_ISECTS_WORD * 4);

      const isectKeys = buf('splat intersection keys', numIsects * 4);
      const isectIds = buf('splat intersection ids', numIsects * 4);
      const ranges = buf('splat tile ranges', shape.views * tiles * 8);
      const enc = gpu.device.createCommandEncoder({ label: 'splat binning + rasterize' });
      if (numVisible > 0) {
        // Sort only the visible pairs, on the bits their depth range needs.
        gpu.dispatch(enc, this.k.compact, [uniform, projected, visible, offsets, visibleInfo, depthKeys, depthIds], groups(vn, 256), this.ts('bin'));
        depthBits = bitsForMaxKey(maxKey - minKey);
        depthSorted = this.sorter.sort(enc, depthKeys, depthIds, numVisible, depthBits).values;
      }
      if (numIsects > 0) {
        gpu.dispatch(enc, this.k.gather, [uniform, depthSorted, tileCounts, sortedCounts], groups(numVisible, 256), this.ts('bin'));
        this.scan.scanExclusive(enc, sortedCounts, offsets, numVisible);
        gpu.dispatch(enc, this.k.emit, [uniform, depthSorted, offsets, projected, isectKeys, isectIds], groups(numVisible, 256), this.ts('bin'));
        // Keys run to views * tiles inclusive (the padding key, see bin_emit.wgsl).
        const keyBits = bitsForMaxKey(shape.views * tiles);
        this.sorter.sort(enc, isectKeys, isectIds, numIsects, keyBits);
        gpu.dispatch(enc, this.k.ranges, [uniform, isectKeys, ranges], Math.ceil(numIsects / 256), this.ts('bin'));
      }
      const im = images;
      gpu.dispatch(enc, this.k.rasterize, [uniform, ranges, isectIds, projected, im.rgb, im.alpha, im.depth, im.normal, im.pixelState], shape.views * tiles, this.ts('rasterize'));
      await gpu.submit('splat forward: binning and rasterize', enc);
      // Keep what the chunk owns; drop the temporaries once the queue has used them.
      const keep = new Set([projected, radii, visible, isectIds, ranges]);
      await gpu.device.queue.onSubmittedWorkDone();
      for (const b of created) if (!keep.has(b)) b.destroy();
      return { viewBase: place.viewBase, views: shape.views, uniform, projected, radii, visible, isectIds, numIsects, depthSort: { pairs: numVisible, bits: depthBits }, ranges };
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
    const tiles = s.shape.tilesX * s.shape.tilesY;
    const sh = this.shRanges(cloud);
    const colorBwd = sh ? await gpu.kernel({ file: 'splat/color_bwd.wgsl', entry: 'color_bwd', defines: { SH_SPLIT: true } }) : this.k.colorBwd;
    const [shLo, shHi]: [Binding, Binding] = sh ? shBindings(cloud.sh, sh.bytes) : [cloud.sh, cloud.sh];
    const [vShLo, vShHi]: [Binding, Binding] = sh ? shBindings(grads.sh, sh.bytes) : [grads.sh, grads.sh];
    const parts: [GPUBuffer | undefined, number, number][] = [
      [cotangents.rgb, 0, pixels * 12],
      [cotangents.alpha, pixels * 12, pixels * 4],
      [cotangents.depth, pixels * 16, pixels * 4],
      [cotangents.normal, pixels * 20, pixels * 12],
    ];
    for (const [src, , bytes] of parts)
      if (src && src.size < bytes) throw new InputError(`splat backward: cotangent buffer '${src.label}' has ${src.size} bytes, the frame needs ${bytes}.`);
    // Distortion alone has its own backward: no image replay (it would add only zeros).
    const imageCotangents = parts.some(([src]) => src !== undefined);
    // Cotangents packed [rgb P*3][alpha P][depth P][normal P*3] so rasterize_bwd binds one buffer.
    const packed = imageCotangents ? gpu.buffer('splat packed cotangents', pixels * 32) : null;
    try {
      if (packed) {
        const copies = gpu.device.createCommandEncoder({ label: 'splat backward: cotangents' });
        for (const [src, offset, bytes] of parts) if (src) copies.copyBufferToBuffer(src, 0, packed, offset, bytes);
        await gpu.submit('splat backward: cotangents', copies);
      }
      const rasterizeBwd = cotangents.depth || cotangents.normal ? this.k.rasterizeBwd : this.k.rasterizeBwdRgb;
      // Chunk by chunk, each with its own screen-space gradients.
      for (const c of s.chunks) {
        const grad2d = gpu.buffer('splat gradients (screen space)', c.views * n * GRAD2D_BYTES);
        try {
          const enc = gpu.device.createCommandEncoder({ label: 'splat backward' });
          if (packed) gpu.dispatch(enc, rasterizeBwd, [c.uniform, c.ranges, c.isectIds, c.projected, s.pixelState, packed, grad2d], c.views * tiles, this.ts('rasterize_bwd'));
          if (cotangents.distortion) await this.recordDistortionBackward(enc, frame, c, cotangents.distortion, grad2d);
          const groups = Math.ceil(n / 64);
          const u = c.uniform;
          gpu.dispatch(enc, this.k.projectBwd, [u, cloud.means, cloud.logScales, cloud.quats, cloud.opacityLogits, grad2d, grads.means, grads.logScales, grads.quats], groups, this.ts('project_bwd'));
          const colorBindings = [u, cloud.means, shLo, cloud.opacityLogits, c.projected, grad2d, vShLo, grads.means, grads.opacityLogits];
          gpu.dispatch(enc, colorBwd, sh ? [...colorBindings, shHi, vShHi] : colorBindings, groups, this.ts('project_bwd'));
          gpu.dispatch(enc, this.k.statsBwd, [u, grad2d, c.radii, grads.gradNorm2d, grads.absGradNorm2d, grads.visibleCount, grads.maxRadius], groups, this.ts('project_bwd'));
          await gpu.submit('splat backward', enc);
          await gpu.device.queue.onSubmittedWorkDone();
        } finally {
          grad2d.destroy();
        }
      }
    } finally {
      packed?.destroy();
    }
  }

  private async addDistortion(frame: SplatFrame, options: RenderOptions): Promise<void> {
    try {
      this.distortionPass ??= SplatDistortion.create(this.gpu, this.usesSubgroups);
      frame.state.distortion = await (await this.distortionPass).forward(frame.state, options);
    } catch (e) {
      frame.destroy();
      throw e;
    }
  }

  private async recordDistortionBackward(enc: GPUCommandEncoder, frame: SplatFrame, chunk: SplatChunk, cotangent: GPUBuffer, grad2d: GPUBuffer): Promise<void> {
    const d = frame.state.distortion;
    if (!d) throw new InputError("splat backward: a 'distortion' cotangent needs a frame rendered with { distortion: true }.");
    (await this.distortionPass!).recordBackward(enc, frame.state, chunk, d, cotangent, grad2d);
  }

  destroy(): void {
    this.sorter.destroy();
    this.scan.destroy();
  }
}
