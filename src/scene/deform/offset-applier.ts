/**
 * Records the step every deformation field shares on the GPU: deformed = canonical + offsets
 * (apply_offset.wgsl), and its backward (apply_offset_bwd.wgsl), which gathers cotangents of
 * the deformed splats into offset cotangents and passes them through to the canonical grads.
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

  private uniform(count: number, stride: number, at: number, channels: number): GPUBuffer {
    const key = `${count}/${stride}/${at}/${channels}`;
    let u = this.uniforms.get(key);
    if (!u) {
      u = this.gpu.uniform(`deform.apply ${key}`, new Uint32Array([count, stride, at, channels]));
      this.uniforms.set(key, u);
    }
    return u;
  }

  forward(encoder: GPUCommandEncoder, canonical: CanonicalSplats, offsets: GPUBuffer, driven: DrivenParams): AppliedSplats {
    const n = canonical.count;
    const owned: GPUBuffer[] = [];
    const apply = (param: DeformedParam, src: GPUBuffer): GPUBuffer => {
      const [stride, at, channels] = this.layout(param, canonical, driven);
      const dst = this.gpu.buffer(`deformed.${param}`, n * stride * 4);
      owned.push(dst);
      this.gpu.dispatch(encoder, this.fwd, [this.uniform(n, stride, at, channels), src, offsets, dst], Math.ceil(n / WG));
      return dst;
    };
    if (driven.opacity && !canonical.opacityLogits) throw new InputError('the field drives opacity; pass canonical opacityLogits.');
    if (driven.color && !canonical.sh) throw new InputError('the field drives colour; pass canonical sh.');
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
      const u = this.uniform(n, stride, at, channels);
      if (g) this.gpu.dispatch(encoder, this.bwdCanonical, [u, d, dOffsets, g], Math.ceil(n / WG));
      else this.gpu.dispatch(encoder, this.bwdOffsetsOnly, [u, d, dOffsets], Math.ceil(n / WG));
    }
  }

  destroy(): void {
    for (const u of this.uniforms.values()) u.destroy();
    this.uniforms.clear();
  }
}
