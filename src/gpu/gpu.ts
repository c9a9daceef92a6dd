/**
 * The one object every stage receives: the device, a cache of compute pipelines built from
 * shaders/, buffer allocation checked against the device's limits, dispatch with automatic
 * 2D split, readback, and error scopes that turn GPU failures into thrown errors naming the
 * kernel.
 */
import { GpuError, InputError } from '../errors.ts';
import { acquireDevice, isNode, type AcquireOptions, type AdapterSummary } from './device.ts';
import { composeShader, type ComposedShader, type ShaderReader } from './shader-source.ts';

function GPUBufferUsageFlags() {
  // GPUBufferUsage is a global only after Dawn is loaded; the numbers are fixed by the spec.
  return {
    MAP_READ: 0x0001,
    MAP_WRITE: 0x0002,
    COPY_SRC: 0x0004,
    COPY_DST: 0x0008,
    INDEX: 0x0010,
    VERTEX: 0x0020,
    UNIFORM: 0x0040,
    STORAGE: 0x0080,
    INDIRECT: 0x0100,
    QUERY_RESOLVE: 0x0200,
  } as const;
}
export const BufferUsage = GPUBufferUsageFlags();
const STORAGE_RW = BufferUsage.STORAGE | BufferUsage.COPY_SRC | BufferUsage.COPY_DST;

/** Largest number of workgroups in one dimension of a dispatch (WebGPU default limit). */
export const MAX_WORKGROUPS_PER_DIM = 65535;

export interface KernelSpec {
  /** Path under shaders/, e.g. 'splat/project.wgsl'. */
  file: string;
  /** Entry point, e.g. 'project_fwd'. */
  entry: string;
  /** Boolean defines for #if blocks. `SUBGROUPS` and `F16` are added from the device's features. */
  defines?: Record<string, boolean>;
  /** WGSL `override` constants. */
  constants?: Record<string, number>;
}

export type Binding = GPUBuffer | { buffer: GPUBuffer; offset?: number; size?: number };

async function nodeShaderReader(): Promise<ShaderReader> {
  const { readFile } = await import('node:fs/promises');
  const { fileURLToPath } = await import('node:url');
  const root = fileURLToPath(new URL('../../shaders/', import.meta.url));
  return (path) => readFile(root + path, 'utf8');
}

function browserShaderReader(base = '/shaders/'): ShaderReader {
  return async (path) => {
    const res = await fetch(base + path);
    if (!res.ok) throw new GpuError(`shader ${path}: HTTP ${res.status}`);
    return res.text();
  };
}

function envBufferCap(): number {
  return isNode() && process.env.RL4D_BUFFER_LIMIT ? Number(process.env.RL4D_BUFFER_LIMIT) : Infinity;
}

function isBuffer(b: Binding): b is GPUBuffer {
  return typeof (b as GPUBuffer).mapState === 'string';
}

/** Splits a workgroup count over x and y when it exceeds the per-dimension limit. */
export function workgroupGrid(count: number): [number, number] {
  if (count <= MAX_WORKGROUPS_PER_DIM) return [Math.max(count, 1), 1];
  const x = Math.ceil(Math.sqrt(count));
  return [x, Math.ceil(count / x)];
}

export class Gpu {
  readonly device: GPUDevice;
  readonly summary: AdapterSummary;
  readonly hasSubgroups: boolean;
  readonly hasTimestamps: boolean;
  readonly hasF16: boolean;
  private readonly release: () => void;
  private readonly readShader: ShaderReader;
  private readonly pipelines = new Map<string, Promise<GPUComputePipeline>>();
  private lostReason: string | null = null;

  private constructor(device: GPUDevice, summary: AdapterSummary, release: () => void, read: ShaderReader) {
    this.device = device;
    this.summary = summary;
    this.release = release;
    this.readShader = read;
    this.hasSubgroups = device.features.has('subgroups' as GPUFeatureName);
    this.hasTimestamps = device.features.has('timestamp-query');
    this.hasF16 = device.features.has('shader-f16');
    device.lost.then((info) => {
      if (info.reason !== 'destroyed') this.lostReason = `${info.reason}: ${info.message}`;
    });
  }

  static async create(options: AcquireOptions & { shaderReader?: ShaderReader } = {}): Promise<Gpu> {
    const acquired = await acquireDevice(options);
    const read = options.shaderReader ?? (isNode() ? await nodeShaderReader() : browserShaderReader());
    return new Gpu(acquired.device, acquired.summary, acquired.release, read);
  }

  destroy(): void {
    this.pipelines.clear();
    this.release();
  }

  get limits(): GPUSupportedLimits {
    return this.device.limits;
  }

  // ---------------------------------------------------------------- shaders and pipelines

  /** Composes a shader with the device's feature defines. */
  compose(file: string, defines: Record<string, boolean> = {}): Promise<ComposedShader> {
    return composeShader(file, this.readShader, { SUBGROUPS: this.hasSubgroups, F16: this.hasF16, ...defines });
  }

  /** A compute pipeline, built once per (file, entry, defines, constants). */
  kernel(spec: KernelSpec): Promise<GPUComputePipeline> {
    const key = JSON.stringify([spec.file, spec.entry, spec.defines ?? {}, spec.constants ?? {}]);
    let p = this.pipelines.get(key);
    if (!p) {
      p = this.buildKernel(spec);
      p.catch(() => this.pipelines.delete(key));
      this.pipelines.set(key, p);
    }
    return p;
  }

  private async buildKernel(spec: KernelSpec): Promise<GPUComputePipeline> {
    const label = `${spec.file}:${spec.entry}`;
    const shader = await this.compose(spec.file, spec.defines);
    this.device.pushErrorScope('validation');
    const module = this.device.createShaderModule({ label, code: shader.code });
    const info = await module.getCompilationInfo();
    const errors = info.messages.filter((m) => m.type === 'error');
    if (errors.length) {
      await this.device.popErrorScope();
      const lines = errors.map((m) => `${shader.origin[m.lineNum - 1] ?? `line ${m.lineNum}`}: ${m.message}`);
      throw new GpuError(`WGSL compile error in ${label}:\n${lines.join('\n')}`);
    }
    let pipeline: GPUComputePipeline;
    try {
      pipeline = this.device.createComputePipeline({
        label,
        layout: 'auto',
        compute: { module, entryPoint: spec.entry, constants: spec.constants },
      });
    } catch (e) {
      await this.device.popErrorScope();
      throw new GpuError(`pipeline ${label}: ${(e as Error).message}`);
    }
    const err = await this.device.popErrorScope();
    if (err) throw new GpuError(`pipeline ${label}: ${err.message}`);
    return pipeline;
  }

  // ---------------------------------------------------------------- buffers

  /**
   * The largest storage binding and buffer, in bytes. RL4D_BUFFER_LIMIT (bytes) emulates a
   * smaller device: bindings up to it and buffers up to twice it, as a browser's defaults
   * (128 and 256 MiB).
   */
  get maxBindingBytes(): number {
    return Math.min(this.limits.maxStorageBufferBindingSize, envBufferCap());
  }

  get maxBufferBytes(): number {
    return Math.min(this.limits.maxBufferSize, 2 * envBufferCap());
  }

  /**
   * Checks a size against the device's buffer limits, naming the limit and what to reduce.
   * `ranged`: the buffer is bound in several ranges (each within the binding limit), so
   * only the buffer limit applies.
   */
  checkSize(label: string, byteSize: number, what = 'the number of splats, views or the image size', ranged = false): void {
    const maxBuffer = this.maxBufferBytes;
    const maxBinding = ranged ? Infinity : this.maxBindingBytes;
    if (byteSize > maxBuffer || byteSize > maxBinding) {
      const limit = byteSize > maxBinding ? `maxStorageBufferBindingSize (${maxBinding} bytes)` : `maxBufferSize (${maxBuffer} bytes)`;
      throw new InputError(
        `Buffer '${label}' needs ${byteSize} bytes, over this device's ${limit}; reduce ${what}.`,
      );
    }
  }

  /**
   * Splits `byteSize` bytes of a buffer into ranges that each fit one storage binding, for
   * buffers allocated `ranged`. Each range starts at a multiple of both the device's
   * minStorageBufferOffsetAlignment and `unitBytes` (one element or row, so no row straddles
   * two ranges). One range when the whole fits.
   */
  bindingRanges(byteSize: number, unitBytes = 4): { offset: number; size: number }[] {
    const align = this.limits.minStorageBufferOffsetAlignment;
    const gcd = (a: number, b: number): number => (b ? gcd(b, a % b) : a);
    const step = (align / gcd(align, unitBytes)) * unitBytes; // smallest aligned whole-unit offset
    const chunk = Math.floor(this.maxBindingBytes / step) * step;
    if (byteSize <= this.maxBindingBytes || chunk === 0) return [{ offset: 0, size: byteSize }];
    const out: { offset: number; size: number }[] = [];
    for (let offset = 0; offset < byteSize; offset += chunk) out.push({ offset, size: Math.min(chunk, byteSize - offset) });
    return out;
  }

  /** A storage buffer (at least 4 bytes, size rounded up to 4), zero-filled by WebGPU. `ranged`: see checkSize. */
  buffer(label: string, byteSize: number, usage: number = STORAGE_RW, ranged = false): GPUBuffer {
    const size = Math.max(4, Math.ceil(byteSize / 4) * 4);
    if (usage & BufferUsage.STORAGE) this.checkSize(label, size, undefined, ranged);
    return this.device.createBuffer({ label, size, usage });
  }

  /** A storage buffer initialised from typed data. */
  upload(label: string, data: ArrayBufferView, usage: number = STORAGE_RW, ranged = false): GPUBuffer {
    // mappedAtCreation rather than writeBuffer: Dawn in Node has crashed on large queued
    // writes followed by other async calls, and this path copies once with no staging.
    const size = Math.max(4, Math.ceil(data.byteLength / 4) * 4);
    if (usage & BufferUsage.STORAGE) this.checkSize(label, size, undefined, ranged);
    const buf = this.device.createBuffer({ label, size, usage: usage | BufferUsage.COPY_DST, mappedAtCreation: true });
    new Uint8Array(buf.getMappedRange()).set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    buf.unmap();
    return buf;
  }

  write(buffer: GPUBuffer, data: ArrayBufferView, byteOffset = 0): void {
    // writeBuffer needs a multiple of 4 bytes.
    const bytes = new Uint8Array(data.buffer as ArrayBuffer, data.byteOffset, data.byteLength);
    if (bytes.byteLength % 4 === 0) this.device.queue.writeBuffer(buffer, byteOffset, bytes);
    else {
      const padded = new Uint8Array(Math.ceil(bytes.byteLength / 4) * 4);
      padded.set(bytes);
      this.device.queue.writeBuffer(buffer, byteOffset, padded);
    }
  }

  /** A uniform buffer from u32/f32 words; `words` are packed as written (callers keep WGSL alignment). */
  uniform(label: string, data: ArrayBufferView): GPUBuffer {
    const size = Math.max(16, Math.ceil(data.byteLength / 16) * 16);
    const buf = this.device.createBuffer({ label, size, usage: BufferUsage.UNIFORM | BufferUsage.COPY_DST });
    this.write(buf, data);
    return buf;
  }

  /** Copies a buffer back to the CPU. */
  async read(buffer: GPUBuffer, byteOffset = 0, byteSize = buffer.size - byteOffset): Promise<ArrayBuffer> {
    const size = Math.ceil(byteSize / 4) * 4;
    if (size === 0) return new ArrayBuffer(0);
    const staging = this.device.createBuffer({
      label: `readback:${buffer.label}`,
      size,
      usage: BufferUsage.MAP_READ | BufferUsage.COPY_DST,
    });
    const encoder = this.device.createCommandEncoder({ label: `readback:${buffer.label}` });
    encoder.copyBufferToBuffer(buffer, byteOffset, staging, 0, size);
    await this.submit(`readback of ${buffer.label}`, encoder);
    try {
      await staging.mapAsync(0x0001 /* GPUMapMode.READ */);
    } catch (e) {
      throw new GpuError(`readback of '${buffer.label}' failed: ${(e as Error).message}${this.lostSuffix()}`);
    }
    const copy = staging.getMappedRange().slice(0, byteSize);
    staging.unmap();
    staging.destroy();
    return copy;
  }

  async readF32(buffer: GPUBuffer, count?: number, offset = 0): Promise<Float32Array> {
    const n = count ?? buffer.size / 4 - offset;
    return new Float32Array(await this.read(buffer, offset * 4, n * 4));
  }

  async readU32(buffer: GPUBuffer, count?: number, offset = 0): Promise<Uint32Array> {
    const n = count ?? buffer.size / 4 - offset;
    return new Uint32Array(await this.read(buffer, offset * 4, n * 4));
  }

  clear(encoder: GPUCommandEncoder, buffer: GPUBuffer, byteSize = buffer.size): void {
    if (byteSize > 0) encoder.clearBuffer(buffer, 0, Math.ceil(byteSize / 4) * 4);
  }

  // ---------------------------------------------------------------- dispatch

  bindGroup(pipeline: GPUComputePipeline, bindings: Binding[], group = 0): GPUBindGroup {
    return this.device.createBindGroup({
      label: pipeline.label,
      layout: pipeline.getBindGroupLayout(group),
      entries: bindings.map((b, i) => ({
        binding: i,
        resource: isBuffer(b) ? { buffer: b } : b,
      })),
    });
  }

  /**
   * Records one dispatch of `workgroups` workgroups (split 2D over the limit; kernels compute
   * their linear id with `linear_workgroup` from lib/dispatch.wgsl and bound-check it).
   * Bindings are given in binding order, group 0.
   */
  dispatch(
    encoder: GPUCommandEncoder,
    pipeline: GPUComputePipeline,
    bindings: Binding[],
    workgroups: number | [number, number, number?],
    timestampWrites?: GPUComputePassTimestampWrites,
  ): void {
    const [x, y, z] = typeof workgroups === 'number' ? [...workgroupGrid(workgroups), 1] : [workgroups[0], workgroups[1], workgroups[2] ?? 1];
    if (x === 0 || y === 0) return;
    const pass = encoder.beginComputePass({ label: pipeline.label, timestampWrites });
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, this.bindGroup(pipeline, bindings));
    pass.dispatchWorkgroups(x, y, z);
    pass.end();
  }

  /** Indirect dispatch: the x/y/z counts are read from `args` at `offset` (3 u32). */
  dispatchIndirect(encoder: GPUCommandEncoder, pipeline: GPUComputePipeline, bindings: Binding[], args: GPUBuffer, offset = 0): void {
    const pass = encoder.beginComputePass({ label: pipeline.label });
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, this.bindGroup(pipeline, bindings));
    pass.dispatchWorkgroupsIndirect(args, offset);
    pass.end();
  }

  /** Submits an encoder inside error scopes; validation, OOM and internal errors throw with the label. */
  async submit(label: string, encoder: GPUCommandEncoder): Promise<void> {
    const device = this.device;
    device.pushErrorScope('internal');
    device.pushErrorScope('out-of-memory');
    device.pushErrorScope('validation');
    device.queue.submit([encoder.finish({ label })]);
    const validation = await device.popErrorScope();
    const oom = await device.popErrorScope();
    const internal = await device.popErrorScope();
    const err = validation ?? oom ?? internal;
    if (err) {
      const kind = validation ? 'validation error' : oom ? 'out of GPU memory' : 'internal GPU error';
      throw new GpuError(`${label}: ${kind}: ${err.message}${this.lostSuffix()}`);
    }
    if (this.lostReason) throw new GpuError(`${label}: device lost (${this.lostReason})`);
  }

  /** Records work with `record` and submits it under `label`; waits until the GPU is done. */
  async run(label: string, record: (encoder: GPUCommandEncoder) => void): Promise<void> {
    const encoder = this.device.createCommandEncoder({ label });
    record(encoder);
    await this.submit(label, encoder);
    await this.device.queue.onSubmittedWorkDone();
  }

  private lostSuffix(): string {
    return this.lostReason ? ` (device lost: ${this.lostReason})` : '';
  }
}
