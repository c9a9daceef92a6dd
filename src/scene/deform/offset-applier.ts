/**
 * Records the step every deformation field shares on the GPU: deformed = canonical + offsets
 * (apply_offset.wgsl), and its backward (apply_offset_bwd.wgsl), which gathers cotangents of
 * the deformed splats into offset cotangents and passes them through to the canonical grads.
 * Per-splat arrays over the storage binding limit (SH at 1M splats) are bound range by range
 * of whole splats, one dispatch each; the [N][14] offsets are bound whole.
 */
import { InputError } from '../../errors.ts';
import type { Gpu } from '../../gpu/gpu.ts';
import { shCoeffCount } from '../gaussian-data.ts';
import type { CanonicalGrads, CanonicalSplats, DeformCotangents } from './deformation-field.ts';
import { OFFSET_CHANNELS, OFFSET_STRIDE, type DeformedParam } from './offsets.ts';

export interface DrivenParams {
  opacity: boolean;
  color: boolean;
}

export interface AppliedSplats {
  means: GPUBuffer;
  quats: GPUBuffer;
  logScales: GPUBuffer;
  opacityLogits?: GPUBuffer;
  sh?: GPUBuffer;
  /** Buffers made here, freed with the frame. */
  owned: GPUBuffer[];
}

const WG = 64;

/** One dispatch's share of a per-splat array: its bytes and the splats it holds. */
interface SplatRange {
  offset: number;
  size: number;
  first: number;
  count: number;
}

export class OffsetApplier {
  private readonly uniforms = new Map<string, GPUBuffer>();

  private constructor(
    private readonly gpu: Gpu,
    private readonly fwd: GPUComputePipeline,
    private readonly bwdCanonical: GPUComputePipeline,
    private readonly bwdOffsetsOnly: GPUComputePipeline,
  ) {}

  static async create(gpu: Gpu): Promise<OffsetApplier> {
    const [fwd, bwdC, bwdO] = await Promise.all([
      gpu.kernel({ file: 'deform/apply_offset.wgsl', entry: 'apply_offset_fwd' }),
      gpu.kernel({ file: 'deform/apply_offset_bwd.wgsl', entry: 'apply_offset_bwd', defines: { CANONICAL: true } }),
      gpu.kernel({ file: 'deform/apply_offset_bwd.wgsl', entry: 'apply_offset_bwd', defines: { CANONICAL: false } }),
    ]);
    return new OffsetApplier(gpu, fwd, bwdC, bwdO);
  }

  /** Per-parameter layout: floats per splat, first offset channel, channels driven. */
  private layout(param: DeformedParam, canonical: CanonicalSplats, driven: DrivenParams): [number, number, number] {
    const spec = OFFSET_CHANNELS[param];
    if (param === 'sh') {
      if (canonical.shDegree === undefined) throw new InputError('canonical splats with sh need shDegree.');
      return [shCoeffCount(canonical.shDegree) * 3, spec.at, driven.color ? 3 : 0];
    }
    if (param === 'opacityLogits') return [1, spec.at, driven.opacity ? 1 : 0];
    return [spec.stride, spec.at, spec.channels];
  }

  /**
   * Binding ranges of whole splats for an [n][stride] f32 array; a row too large to range
   * (with the offset alignment) gets the limit error.
   */
  private ranges(label: string, n: number, stride: number): SplatRange[] {
    const row = stride * 4;
    const ranges = this.gpu.bindingRanges(n * row, row);
    const max = this.gpu.maxBindingBytes;
    if (ranges.some((r) => r.size > max))
      throw new InputError(
        `Buffer '${label}' needs ${n * row} bytes, over this device's maxStorageBufferBindingSize (${max} bytes) even bound in ranges of whole splats (${row} bytes each); reduce the SH degree.`,
      );
    // Empty ranges (no splats) are skipped: a zero-size binding is invalid.
    return ranges.filter((r) => r.size > 0).map((r) => ({ ...r, first: r.offset / row, count: r.size / row }));
  }

  private uniform(count: number, stride: number, at: number, channels: number, first: number): GPUBuffer {
    const key = `${count}/${stride}/${at}/${channels}/${first}`;
    let u = this.uniforms.get(key);
    if (!u) {
      u = this.gpu.uniform(`deform.apply ${key}`, new Uint32Array([count, stride, at, channels, first]));
      this.uniforms.set(key, u);
    }
    return u;
  }

  forward(encoder: GPUCommandEncoder, canonical: CanonicalSplats, offsets: GPUBuffer, driven: DrivenParams): AppliedSplats {
    const n = canonical.count;
    const owned: GPUBuffer[] = [];
    if (driven.opacity && !canonical.opacityLogits) throw new InputError('the field drives opacity; pass canonical opacityLogits.');
    if (driven.color && !canonical.sh) throw new InputError('the field drives colour; pass canonical sh.');
    // SH has the widest rows: its limit error comes before anything is allocated.
    if (driven.color) this.ranges('deformed.sh', n, this.layout('sh', canonical, driven)[0]);
    const apply = (param: DeformedParam, src: GPUBuffer): GPUBuffer => {
      const [stride, at, channels] = this.layout(param, canonical, driven);
      const label = `deformed.${param}`;
      const dst = this.gpu.buffer(label, n * stride * 4, undefined, true);
      owned.push(dst);
      for (const r of this.ranges(label, n, stride)) {
        const part = (buffer: GPUBuffer) => ({ buffer, offset: r.offset, size: r.size });
        const u = this.uniform(r.count, stride, at, channels, r.first);
        this.gpu.dispatch(encoder, this.fwd, [u, part(src), offsets, part(dst)], Math.ceil(r.count / WG));
      }
      return dst;
    };
    return {
      means: apply('means', canonical.means),
      quats: apply('quats', canonical.quats),
      logScales: apply('logScales', canonical.logScales),
      opacityLogits: driven.opacity ? apply('opacityLogits', canonical.opacityLogits!) : canonical.opacityLogits,
      sh: driven.color ? apply('sh', canonical.sh!) : canonical.sh,
      owned,
    };
  }

  /** Clears `dOffsets` [N][14] and fills it from the cotangents; adds the identity path into `grads`. */
  backward(
    encoder: GPUCommandEncoder,
    canonical: CanonicalSplats,
    cotangents: DeformCotangents,
    grads: CanonicalGrads,
    driven: DrivenParams,
    dOffsets: GPUBuffer,
  ): void {
    const n = canonical.count;
    this.gpu.clear(encoder, dOffsets, n * OFFSET_STRIDE * 4);
    for (const param of ['means', 'quats', 'logScales', 'opacityLogits', 'sh'] as const) {
      const d = cotangents[param];
      if (!d) continue;
      const [stride, at, channels] = this.layout(param, canonical, driven);
      const g = grads[param];
      if (!g && channels === 0) continue;
      for (const r of this.ranges(d.label || `cotangent ${param}`, n, stride)) {
        const part = (buffer: GPUBuffer) => ({ buffer, offset: r.offset, size: r.size });
        const u = this.uniform(r.count, stride, at, channels, r.first);
        if (g) this.gpu.dispatch(encoder, this.bwdCanonical, [u, part(d), dOffsets, part(g)], Math.ceil(r.count / WG));
        else this.gpu.dispatch(encoder, this.bwdOffsetsOnly, [u, part(d), dOffsets], Math.ceil(r.count / WG));
      }
    }
  }

  destroy(): void {
    for (const u of this.uniforms.values()) u.destroy();
    this.uniforms.clear();
  }
}
