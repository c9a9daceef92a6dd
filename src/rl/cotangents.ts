/**
 * Accumulates image-space gradients (of the loss to minimise) from several terms into one
 * set of cotangent buffers for a rendered frame: reward gradients (per-view weighted),
 * score-distillation gradients computed on the CPU, and the final clip. One backward pass
 * through the representation then serves every image-space term.
 */
import type { Gpu } from '../gpu/gpu.ts';
import type { RenderCotangents, RenderOutput } from '../render/types.ts';

export type CotangentKind = 'rgb' | 'alpha' | 'depth' | 'normal' | 'distortion';
const CHANNELS: Record<CotangentKind, number> = { rgb: 3, alpha: 1, depth: 1, normal: 3, distortion: 1 };
const WG = 64;

export class CotangentKernels {
  private constructor(
    readonly axpy: GPUComputePipeline,
    readonly clip: GPUComputePipeline,
  ) {}
  static async create(gpu: Gpu): Promise<CotangentKernels> {
    const [axpy, clip] = await Promise.all([
      gpu.kernel({ file: 'rl/cotangent.wgsl', entry: 'axpy_views' }),
      gpu.kernel({ file: 'rl/cotangent.wgsl', entry: 'clip_finite' }),
    ]);
    return new CotangentKernels(axpy, clip);
  }
}

export class CotangentAccumulator {
  private readonly buffers = new Map<CotangentKind, GPUBuffer>();
  private readonly pixelsPerView: number;

  constructor(
    private readonly gpu: Gpu,
    private readonly kernels: CotangentKernels,
    private readonly frame: Pick<RenderOutput, 'views' | 'width' | 'height'>,
  ) {
    this.pixelsPerView = frame.width * frame.height;
  }

  length(kind: CotangentKind): number {
    return this.frame.views * this.pixelsPerView * CHANNELS[kind];
  }

  private target(kind: CotangentKind): GPUBuffer {
    let b = this.buffers.get(kind);
    if (!b) {
      b = this.gpu.buffer(`rl:cotangent:${kind}`, this.length(kind) * 4);
      this.buffers.set(kind, b);
    }
    return b;
  }

  /** out[kind] += a * viewWeights[v] * source (viewWeights default to 1). */
  async addScaled(kind: CotangentKind, source: GPUBuffer, a: number, viewWeights?: ArrayLike<number>): Promise<void> {
    if (a === 0) return;
    const n = this.length(kind);
    const out = this.target(kind);
    const weights = new Float32Array(this.frame.views).fill(1);
    if (viewWeights) weights.set(Array.from(viewWeights));
    const wBuf = this.gpu.upload('rl:cotangent:view_weights', weights);
    const params = new ArrayBuffer(16);
    new Uint32Array(params, 0, 2).set([n, this.pixelsPerView * CHANNELS[kind]]);
    new Float32Array(params, 8, 1)[0] = a;
    const u = this.gpu.uniform('rl:cotangent:axpy', new Uint8Array(params));
    try {
      await this.gpu.run('rl:cotangent:axpy', (enc) => this.gpu.dispatch(enc, this.kernels.axpy, [u, wBuf, source, out], Math.ceil(n / WG)));
    } finally {
      u.destroy();
      wBuf.destroy();
    }
  }

  /** out[kind] += a * values, for gradients computed on the CPU (score distillation). */
  async addHost(kind: CotangentKind, values: Float32Array, a = 1): Promise<void> {
    const src = this.gpu.upload('rl:cotangent:host', values);
    try {
      await this.addScaled(kind, src, a);
    } finally {
      src.destroy();
    }
  }

  /** Clamps every accumulated cotangent to +-limit and zeroes NaN/inf (no-op for limit <= 0 except the NaN guard). */
  async clip(limit: number): Promise<void> {
    const lim = limit > 0 ? limit : 3.0e38;
    const uniforms: GPUBuffer[] = [];
    try {
      await this.gpu.run('rl:cotangent:clip', (enc) => {
        for (const [kind, buf] of this.buffers) {
          const n = this.length(kind);
          const params = new ArrayBuffer(16);
          new Uint32Array(params, 0, 1)[0] = n;
          new Float32Array(params, 4, 1)[0] = lim;
          const u = this.gpu.uniform('rl:cotangent:clip', new Uint8Array(params));
          uniforms.push(u);
          this.gpu.dispatch(enc, this.kernels.clip, [u, buf], Math.ceil(n / WG));
        }
      });
    } finally {
      for (const u of uniforms) u.destroy();
    }
  }

  get empty(): boolean {
    return this.buffers.size === 0;
  }

  cotangents(): RenderCotangents {
    return Object.fromEntries(this.buffers) as RenderCotangents;
  }

  destroy(): void {
    for (const b of this.buffers.values()) b.destroy();
    this.buffers.clear();
  }
}
