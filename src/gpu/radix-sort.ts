/**
 * Stable LSD radix sort of (key, value) u32 pairs on the GPU, 4 bits per pass, entirely in
 * WGSL: per pass a block histogram (sort_count), an exclusive prefix sum of the histograms
 * (PrefixSum), and a stable scatter (sort_scatter). Callers know the count on the CPU.
 * Two block layouts: 1024 pairs per 256-invocation workgroup (radix_sort.wgsl, for GPUs),
 * or 256 pairs per 8-lane subgroup without barriers (radix_sort_lanes.wgsl, for CPU
 * adapters such as lavapipe, where it is several times faster).
 */
import { InputError } from '../errors.ts';
import { BufferUsage, type Gpu } from './gpu.ts';
import { GrowableBuffer, PrefixSum, UniformCache, subgroupScansUsable, useLaneBlocks, type ScanKernelOptions } from './prefix-sum.ts';

/** Pairs per workgroup in the count and scatter kernels, by layout. */
const WORKGROUP_BLOCK = 1024;
const LANE_BLOCK = 256;
export const BITS_PER_PASS = 4;
const BINS = 1 << BITS_PER_PASS;

export interface SortedPairs {
  keys: GPUBuffer;
  values: GPUBuffer;
}

/** The number of low bits that hold every key from 0 to maxKey (what `sort` needs). */
export function bitsForMaxKey(maxKey: number): number {
  if (!Number.isInteger(maxKey) || maxKey < 0 || maxKey > 0xffffffff) throw new InputError(`radix sort: max key must be an integer from 0 to 2^32 - 1, got ${maxKey}.`);
  return maxKey === 0 ? 0 : Math.floor(Math.log2(maxKey)) + 1;
}

export class RadixSorter {
  private readonly gpu: Gpu;
  private readonly countPipeline: GPUComputePipeline;
  private readonly scatterPipeline: GPUComputePipeline;
  private readonly scan: PrefixSum;
  private readonly counts: GrowableBuffer;
  private readonly offsets: GrowableBuffer;
  private readonly tmpKeys: GrowableBuffer;
  private readonly tmpValues: GrowableBuffer;
  private readonly params = new UniformCache<string>(64);
  readonly usesSubgroups: boolean;
  readonly usesLaneBlocks: boolean;
  private readonly block: number;

  private constructor(gpu: Gpu, count: GPUComputePipeline, scatter: GPUComputePipeline, scan: PrefixSum, usesSubgroups: boolean, laneBlocks: boolean) {
    this.gpu = gpu;
    this.usesLaneBlocks = laneBlocks;
    this.block = laneBlocks ? LANE_BLOCK : WORKGROUP_BLOCK;
    this.countPipeline = count;
    this.scatterPipeline = scatter;
    this.scan = scan;
    this.usesSubgroups = usesSubgroups;
    this.counts = new GrowableBuffer(gpu, 'radix sort block histograms');
    this.offsets = new GrowableBuffer(gpu, 'radix sort digit offsets');
    this.tmpKeys = new GrowableBuffer(gpu, 'radix sort keys (ping-pong)');
    this.tmpValues = new GrowableBuffer(gpu, 'radix sort values (ping-pong)');
  }

  /** `subgroups: false` forces the workgroup-memory variant (for tests and comparison). */
  static async create(gpu: Gpu, options: ScanKernelOptions = {}): Promise<RadixSorter> {
    const subgroups = (options.subgroups ?? true) && (await subgroupScansUsable(gpu));
    const laneBlocks = await useLaneBlocks(gpu, subgroups, options);
    const file = laneBlocks ? 'sort/radix_sort_lanes.wgsl' : 'sort/radix_sort.wgsl';
    const defines = { SUBGROUPS: subgroups };
    const [count, scatter, scan] = await Promise.all([
      gpu.kernel({ file, entry: 'sort_count', defines }),
      gpu.kernel({ file, entry: 'sort_scatter', defines }),
      PrefixSum.create(gpu, { subgroups, laneBlocks }),
    ]);
    return new RadixSorter(gpu, count, scatter, scan, subgroups, laneBlocks);
  }

  /**
   * Records a stable sort of the first `count` pairs by the low `bits` bits of the key
   * (higher bits are ignored and kept). The contents of `keys` and `values` are used as
   * scratch. Returns the buffers holding the sorted pairs: `keys` and `values` themselves
   * when they allow COPY_DST, else this sorter's temporaries, valid until its next sort.
   */
  sort(encoder: GPUCommandEncoder, keys: GPUBuffer, values: GPUBuffer, count: number, bits: number): SortedPairs {
    if (!Number.isInteger(count) || count < 0) throw new InputError(`radix sort: count must be a non-negative integer, got ${count}.`);
    if (!Number.isInteger(bits) || bits < 0 || bits > 32) throw new InputError(`radix sort: bits must be an integer from 0 to 32, got ${bits}.`);
    if (keys === values) throw new InputError('radix sort: keys and values must be different buffers.');
    for (const [what, b] of [['keys', keys], ['values', values]] as const) {
      if (b.size < count * 4) throw new InputError(`radix sort: ${what} buffer '${b.label}' holds ${Math.floor(b.size / 4)} u32, fewer than count ${count}.`);
    }
    const passes = Math.ceil(bits / BITS_PER_PASS);
    if (count <= 1 || passes === 0) return { keys, values };

    const numBlocks = Math.ceil(count / this.block);
    const histogramLength = BINS * numBlocks;
    const counts = this.counts.get(histogramLength * 4);
    const offsets = this.offsets.get((histogramLength + 1) * 4);
    const temp: SortedPairs = { keys: this.tmpKeys.get(count * 4), values: this.tmpValues.get(count * 4) };
    const params = this.params.get(`${count}:${bits}`, () =>
      Array.from({ length: passes }, (_, p) => {
        const shift = p * BITS_PER_PASS;
        const mask = (1 << Math.min(BITS_PER_PASS, bits - shift)) - 1;
        return this.gpu.uniform(`radix sort pass ${p}`, new Uint32Array([count, numBlocks, shift, mask]));
      }),
    );

    let src: SortedPairs = { keys, values };
    let dst = temp;
    for (let p = 0; p < passes; p++) {
      this.gpu.dispatch(encoder, this.countPipeline, [params[p], src.keys, counts], numBlocks);
      this.scan.scanExclusive(encoder, counts, offsets, histogramLength);
      this.gpu.dispatch(encoder, this.scatterPipeline, [params[p], src.keys, src.values, offsets, dst.keys, dst.values], numBlocks);
      [src, dst] = [dst, src];
    }
    // After an odd number of passes the result sits in the temporaries; move it home.
    if (src === temp && keys.usage & BufferUsage.COPY_DST && values.usage & BufferUsage.COPY_DST) {
      encoder.copyBufferToBuffer(temp.keys, 0, keys, 0, count * 4);
      encoder.copyBufferToBuffer(temp.values, 0, values, 0, count * 4);
      return { keys, values };
    }
    return src;
  }

  /** Frees the temporaries; call only after all work recorded with this sorter has finished. */
  destroy(): void {
    for (const b of [this.counts, this.offsets, this.tmpKeys, this.tmpValues]) b.destroy();
    this.scan.destroy();
  }
}
