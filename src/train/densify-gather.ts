/**
 * Records a densifier's row gather (dst row j <- src row source[j], as the kernel's mode
 * says) over buffers that may pass the storage binding limit (SH at 1M splats): one dispatch
 * per binding range of dst, src bound in two ranges. A src over two bindings is refused with
 * the limit error (the renderer could not have drawn it either).
 */
import { InputError } from '../errors.ts';
import type { Binding, Gpu } from '../gpu/gpu.ts';

const WG = 64;

export interface GatherCall {
  pipeline: GPUComputePipeline;
  /** The kernel's bindings between its params and src (row sources, flags). */
  head: Binding[];
  src: GPUBuffer;
  /** Rows in src. */
  srcRows: number;
  dst: GPUBuffer;
  /** Rows in dst. */
  rows: number;
  /** f32 per row. */
  width: number;
  mode: number;
  /** Keeps the per-range uniforms for destruction after submit. */
  track: (b: GPUBuffer) => GPUBuffer;
}

function words(...values: number[]): Uint8Array {
  return new Uint8Array(Uint32Array.from([...values, 0, 0, 0]).buffer); // 8 u32 (32 bytes)
}

export function recordGather(gpu: Gpu, enc: GPUCommandEncoder, c: GatherCall): void {
  if (c.rows === 0 || c.width === 0) return;
  const rowBytes = c.width * 4;
  const srcRanges = gpu.bindingRanges(c.srcRows * rowBytes, rowBytes);
  if (srcRanges.length > 2)
    throw new InputError(
      `Buffer '${c.src.label}' needs ${c.srcRows * rowBytes} bytes, over two bindings of this device's maxStorageBufferBindingSize (${gpu.maxBindingBytes} bytes); reduce the number of splats or the SH degree.`,
    );
  const [lo, hi = lo] = srcRanges;
  const split = srcRanges.length > 1 ? hi.offset / 4 : 0xffffffff;
  for (const r of gpu.bindingRanges(c.rows * rowBytes, rowBytes)) {
    const rows = r.size / rowBytes;
    const params = c.track(gpu.uniform('densify gather params', words(rows, c.width, c.mode, r.offset / rowBytes, split)));
    const bindings: Binding[] = [params, ...c.head, { buffer: c.src, ...lo }, { buffer: c.src, ...hi }, { buffer: c.dst, ...r }];
    gpu.dispatch(enc, c.pipeline, bindings, Math.ceil((rows * c.width) / WG));
  }
}
