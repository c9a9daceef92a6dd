/**
 * Gaussian splats on the GPU: raw parameters in structure-of-arrays f32 buffers (DESIGN.md),
 * and a matching set of gradient buffers with the per-splat statistics densification uses.
 */
import type { Gpu } from '../gpu/gpu.ts';
import { InputError } from '../errors.ts';
import { emptyGaussians, shCoeffCount, type GaussianData } from './gaussian-data.ts';

function checkDegree(shDegree: number): void {
  if (!(Number.isInteger(shDegree) && shDegree >= 0 && shDegree <= 3))
    throw new InputError(`SH degree ${shDegree} is not supported; use 0, 1, 2 or 3.`);
}

function checkLength(name: string, arr: Float32Array, expected: number): void {
  if (arr.length !== expected)
    throw new InputError(`Gaussian data: '${name}' holds ${arr.length} floats, expected ${expected} for the splat count and SH degree.`);
}

/** The five raw parameter buffers of a cloud. */
export interface SplatBuffers {
  means: GPUBuffer;
  logScales: GPUBuffer;
  quats: GPUBuffer;
  opacityLogits: GPUBuffer;
  sh: GPUBuffer;
}

export class GaussianCloud {
  readonly count: number;
  readonly shDegree: number;
  readonly means: GPUBuffer;
  readonly logScales: GPUBuffer;
  readonly quats: GPUBuffer;
  readonly opacityLogits: GPUBuffer;
  readonly sh: GPUBuffer;
  private readonly gpu: Gpu;

  private constructor(gpu: Gpu, count: number, shDegree: number, buffers: SplatBuffers) {
    this.gpu = gpu;
    this.count = count;
    this.shDegree = shDegree;
    this.means = buffers.means;
    this.logScales = buffers.logScales;
    this.quats = buffers.quats;
    this.opacityLogits = buffers.opacityLogits;
    this.sh = buffers.sh;
  }

  /**
   * A cloud over buffers that already hold raw parameters in this layout (deformed splats,
   * densified splats). The cloud takes ownership: destroy() frees them.
   */
  static wrap(gpu: Gpu, count: number, shDegree: number, buffers: SplatBuffers): GaussianCloud {
    checkDegree(shDegree);
    return new GaussianCloud(gpu, count, shDegree, buffers);
  }

  /** Uploads raw parameters; sizes are checked against the device limits first. */
  static fromData(gpu: Gpu, data: GaussianData): GaussianCloud {
    checkDegree(data.shDegree);
    const n = data.count;
    checkLength('means', data.means, n * 3);
    checkLength('logScales', data.logScales, n * 3);
    checkLength('quats', data.quats, n * 4);
    checkLength('opacityLogits', data.opacityLogits, n);
    checkLength('sh', data.sh, n * shCoeffCount(data.shDegree) * 3);
    // The SH buffer may pass the binding limit: the splat renderer binds it in two ranges.
    gpu.checkSize('splat sh', data.sh.byteLength, 'the number of splats or the SH degree', true);
    return new GaussianCloud(gpu, n, data.shDegree, {
      means: gpu.upload('splat means', data.means),
      logScales: gpu.upload('splat logScales', data.logScales),
      quats: gpu.upload('splat quats', data.quats),
      opacityLogits: gpu.upload('splat opacityLogits', data.opacityLogits),
      sh: gpu.upload('splat sh', data.sh, undefined, true),
    });
  }

  /** Coefficients per splat (K = (degree+1)^2). */
  get shCoeffs(): number {
    return shCoeffCount(this.shDegree);
  }

  async toData(): Promise<GaussianData> {
    const out = emptyGaussians(this.count, this.shDegree);
    if (this.count === 0) return out;
    out.means.set(await this.gpu.readF32(this.means, this.count * 3));
    out.logScales.set(await this.gpu.readF32(this.logScales, this.count * 3));
    out.quats.set(await this.gpu.readF32(this.quats, this.count * 4));
    out.opacityLogits.set(await this.gpu.readF32(this.opacityLogits, this.count));
    out.sh.set(await this.gpu.readF32(this.sh, this.count * this.shCoeffs * 3));
    return out;
  }

  destroy(): void {
    for (const b of [this.means, this.logScales, this.quats, this.opacityLogits, this.sh]) b.destroy();
  }
}

/**
 * Gradients for every parameter buffer of a GaussianCloud (same layout), plus per-splat
 * densification statistics accumulated by the backward pass:
 *  - gradNorm2d: sum over (step, view) of |d loss / d mean2d| scaled as gsplat does
 *    (x by W/2 * views, y by H/2 * views), over views where the splat is visible;
 *  - absGradNorm2d: the same for gsplat's absgrad (per-pixel absolute values summed first);
 *  - visibleCount: number of (step, view) pairs where the splat was visible (f32);
 *  - maxRadius: largest screen radius in pixels seen (f32).
 */
export class GaussianGrads {
  readonly count: number;
  readonly shDegree: number;
  readonly means: GPUBuffer;
  readonly logScales: GPUBuffer;
  readonly quats: GPUBuffer;
  readonly opacityLogits: GPUBuffer;
  readonly sh: GPUBuffer;
  readonly gradNorm2d: GPUBuffer;
  readonly absGradNorm2d: GPUBuffer;
  readonly visibleCount: GPUBuffer;
  readonly maxRadius: GPUBuffer;

  private constructor(gpu: Gpu, count: number, shDegree: number) {
    this.count = count;
    this.shDegree = shDegree;
    const k = shCoeffCount(shDegree);
    this.means = gpu.buffer('grad means', count * 12);
    this.logScales = gpu.buffer('grad logScales', count * 12);
    this.quats = gpu.buffer('grad quats', count * 16);
    this.opacityLogits = gpu.buffer('grad opacityLogits', count * 4);
    this.sh = gpu.buffer('grad sh', count * k * 12, undefined, true); // bound in ranges, as GaussianCloud.sh
    this.gradNorm2d = gpu.buffer('stat gradNorm2d', count * 4);
    this.absGradNorm2d = gpu.buffer('stat absGradNorm2d', count * 4);
    this.visibleCount = gpu.buffer('stat visibleCount', count * 4);
    this.maxRadius = gpu.buffer('stat maxRadius', count * 4);
  }

  static create(gpu: Gpu, count: number, shDegree: number): GaussianGrads {
    checkDegree(shDegree);
    gpu.checkSize('grad sh', count * shCoeffCount(shDegree) * 12, 'the number of splats or the SH degree', true);
    return new GaussianGrads(gpu, count, shDegree);
  }

  /** Parameter gradient buffers in the order of GaussianCloud's parameters. */
  get params(): GPUBuffer[] {
    return [this.means, this.logScales, this.quats, this.opacityLogits, this.sh];
  }

  get stats(): GPUBuffer[] {
    return [this.gradNorm2d, this.absGradNorm2d, this.visibleCount, this.maxRadius];
  }

  /** Records zeroing of the parameter gradients (statistics are kept). */
  zero(encoder: GPUCommandEncoder): void {
    for (const b of this.params) encoder.clearBuffer(b);
  }

  /** Records zeroing of the densification statistics. */
  zeroStats(encoder: GPUCommandEncoder): void {
    for (const b of this.stats) encoder.clearBuffer(b);
  }

  destroy(): void {
    for (const b of [...this.params, ...this.stats]) b.destroy();
  }
}
