/**
 * Exclusive prefix sum of u32 on the GPU, multi-level: blocks of 1024 values are scanned in
 * workgroups, their totals are scanned recursively, and the scanned totals are added back.
 * `output` gets count + 1 values; output[count] is the total (mod 2^32).
 */
import { InputError } from '../errors.ts';
import type { Gpu } from './gpu.ts';

/** Values one workgroup scans (256 invocations x 4). */
export const SCAN_BLOCK = 1024;

const SHADER = 'sort/prefix_sum.wgsl';
const LAYOUT_PROBE = 'sort/subgroup_layout.wgsl';
/** Uniform sets kept per distinct count; older ones are dropped (never destroyed while in use). */
const PARAM_CACHE_SIZE = 64;

export interface ScanKernelOptions {
  /** Use the subgroup variants; default: when the device has subgroups laid out as the kernels assume. */
  subgroups?: boolean;
  /**
   * Give each block to one 8-lane subgroup, without barriers (the *_lanes kernels), which
   * is several times faster on SIMD-on-CPU adapters. Default: on CPU adapters (fallback or
   * 'software' architecture); used only where subgroups are at least 8 wide.
   */
  laneBlocks?: boolean;
}

/** Whether the *_lanes kernels run, for options whose `subgroups` has been settled. */
export async function useLaneBlocks(gpu: Gpu, subgroups: boolean, options: ScanKernelOptions): Promise<boolean> {
  const cpu = gpu.summary.isFallbackAdapter || gpu.summary.architecture === 'software';
  return subgroups && (options.laneBlocks ?? cpu) && (await subgroupLayoutSize(gpu)) >= 8;
}

const layoutChecks = new WeakMap<Gpu, Promise<number>>();

/**
 * Whether the subgroup scans in shaders/sort/ may run on this device: the device has
 * subgroups, and a 256-invocation workgroup is cut into equal power-of-two subgroups of
 * consecutive local indices (at least 4 wide), which WGSL does not promise. Checked once.
 */
export async function subgroupScansUsable(gpu: Gpu): Promise<boolean> {
  return (await subgroupLayoutSize(gpu)) > 0;
}

/** The subgroup size when subgroups are laid out as subgroupScansUsable asks, else 0. */
export function subgroupLayoutSize(gpu: Gpu): Promise<number> {
  let p = layoutChecks.get(gpu);
  if (!p) {
    p = probeSubgroupLayout(gpu);
    layoutChecks.set(gpu, p);
  }
  return p;
}

async function probeSubgroupLayout(gpu: Gpu): Promise<number> {
  if (!gpu.hasSubgroups) return 0;
  const pipeline = await gpu.kernel({ file: LAYOUT_PROBE, entry: 'subgroup_layout' });
  const out = gpu.buffer('subgroup layout probe', 256 * 4);
  try {
    await gpu.run('subgroup layout probe', (enc) => gpu.dispatch(enc, pipeline, [out], 1));
    const words = await gpu.readU32(out, 256);
    const size = words[0] >>> 16;
    if (size < 4 || size > 256 || (size & (size - 1)) !== 0) return 0;
    return words.every((w, lid) => w >>> 16 === size && (w & 0xffff) === lid % size) ? size : 0;
  } finally {
    out.destroy();
  }
}

/** A small LRU of per-count uniform buffers; dropping (not destroying) keeps queued work valid. */
export class UniformCache<K> {
  private readonly entries = new Map<K, GPUBuffer[]>();
  constructor(private readonly capacity: number) {}

  get(key: K, make: () => GPUBuffer[]): GPUBuffer[] {
    let v = this.entries.get(key);
    if (v) this.entries.delete(key);
    else v = make();
    this.entries.set(key, v);
    if (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value as K);
    return v;
  }
}

/** A buffer that grows (by half again) when a larger one is asked for. */
export class GrowableBuffer {
  private buf: GPUBuffer | null = null;
  constructor(private readonly gpu: Gpu, private readonly label: string) {}

  /** A buffer of at least `bytes` bytes; the old one is dropped, not destroyed, since queued work may use it. */
  get(bytes: number): GPUBuffer {
    if (!this.buf || this.buf.size < bytes) {
      this.gpu.checkSize(this.label, bytes);
      const grown = this.buf ? Math.max(bytes, Math.ceil(this.buf.size * 1.5)) : bytes;
      this.buf = this.gpu.buffer(this.label, Math.min(grown, this.gpu.limits.maxStorageBufferBindingSize));
    }
    return this.buf;
  }

  destroy(): void {
    this.buf?.destroy();
    this.buf = null;
  }
}

interface Level {
  /** Values written at this level. */
  n: number;
  /** Values read (the rest read as zero). */
  nInput: number;
  blocks: number;
}

function planLevels(count: number): Level[] {
  const levels: Level[] = [];
  let n = count + 1;
  let nInput = count;
  for (;;) {
    const blocks = Math.ceil(n / SCAN_BLOCK);
    levels.push({ n, nInput, blocks });
    if (blocks === 1) return levels;
    n = nInput = blocks;
  }
}

export class PrefixSum {
  private readonly gpu: Gpu;
  private readonly scanPipeline: GPUComputePipeline;
  private readonly addPipeline: GPUComputePipeline;
  /** blockSums[k]: totals of level k's blocks; scanned[k]: level k's output for k >= 1. */
  private readonly blockSums: GrowableBuffer[] = [];
  private readonly scanned: GrowableBuffer[] = [];
  private readonly params = new UniformCache<number>(PARAM_CACHE_SIZE);
  readonly usesSubgroups: boolean;
  readonly usesLaneBlocks: boolean;

  private constructor(gpu: Gpu, scan: GPUComputePipeline, add: GPUComputePipeline, usesSubgroups: boolean, laneBlocks: boolean) {
    this.gpu = gpu;
    this.scanPipeline = scan;
    this.addPipeline = add;
    this.usesSubgroups = usesSubgroups;
    this.usesLaneBlocks = laneBlocks;
  }

  static async create(gpu: Gpu, options: ScanKernelOptions = {}): Promise<PrefixSum> {
    const subgroups = (options.subgroups ?? true) && (await subgroupScansUsable(gpu));
    const laneBlocks = await useLaneBlocks(gpu, subgroups, options);
    const defines = { SUBGROUPS: subgroups };
    const [scan, add] = await Promise.all([
      gpu.kernel({ file: SHADER, entry: laneBlocks ? 'scan_blocks_lanes' : 'scan_blocks', defines }),
      gpu.kernel({ file: SHADER, entry: 'add_block_offsets', defines }),
    ]);
    return new PrefixSum(gpu, scan, add, subgroups, laneBlocks);
  }

  /**
   * Records output[i] = sum(input[0..i)) for i = 0..count (count + 1 values). `input` and
   * `output` must be different storage buffers of at least count and count + 1 u32.
   */
  scanExclusive(encoder: GPUCommandEncoder, input: GPUBuffer, output: GPUBuffer, count: number): void {
    if (!Number.isInteger(count) || count < 0) throw new InputError(`prefix sum: count must be a non-negative integer, got ${count}.`);
    if (input === output) throw new InputError('prefix sum: input and output must be different buffers.');
    if (input.size < count * 4) throw new InputError(`prefix sum: input '${input.label}' holds ${input.size / 4} u32, fewer than count ${count}.`);
    if (output.size < (count + 1) * 4) {
      throw new InputError(`prefix sum: output '${output.label}' holds ${output.size / 4} u32; it needs count + 1 = ${count + 1}.`);
    }
    this.gpu.checkSize('prefix sum output', (count + 1) * 4, 'the number of values to scan');
    const levels = planLevels(count);
    const params = this.params.get(count, () =>
      levels.map((l, k) => this.gpu.uniform(`prefix sum params L${k}`, new Uint32Array([l.n, l.nInput, l.blocks, 0]))),
    );
    const outputs: GPUBuffer[] = [];
    for (let k = 0; k < levels.length; k++) {
      const l = levels[k];
      const src = k === 0 ? input : this.blockSumsAt(k - 1).get(levels[k - 1].blocks * 4);
      const dst = k === 0 ? output : this.scannedAt(k).get(l.n * 4);
      outputs.push(dst);
      const sums = this.blockSumsAt(k).get(l.blocks * 4);
      this.gpu.dispatch(encoder, this.scanPipeline, [params[k], src, dst, sums], l.blocks);
    }
    for (let k = levels.length - 2; k >= 0; k--) {
      this.gpu.dispatch(encoder, this.addPipeline, [params[k], outputs[k], outputs[k + 1]], levels[k].blocks);
    }
  }

  private blockSumsAt(k: number): GrowableBuffer {
    return (this.blockSums[k] ??= new GrowableBuffer(this.gpu, `prefix sum block totals L${k}`));
  }

  private scannedAt(k: number): GrowableBuffer {
    return (this.scanned[k] ??= new GrowableBuffer(this.gpu, `prefix sum scanned totals L${k}`));
  }

  /** Frees the temporaries; call only after all work recorded with this object has finished. */
  destroy(): void {
    for (const b of [...this.blockSums, ...this.scanned]) b?.destroy();
  }
}
