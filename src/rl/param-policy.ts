/**
 * GPU side of the Gaussian parameter-space policy pi = N(mu, sigma^2 I) used by grpo and
 * dpo: snapshots of the parameters (the sampling mean "old" and the KL reference),
 * perturbation along seeded noise directions, exact restore (a buffer copy, never a
 * subtraction), the dot products the ratio and KL need, and the gradient accumulation.
 * The noise is regenerated from (seed, index) so nothing of size G x N is stored.
 */
import { InputError } from '../errors.ts';
import type { Gpu } from '../gpu/gpu.ts';
import type { BlockSelection } from './block-selection.ts';

const WG = 64;

export class ParamSnapshot {
  readonly buffers: GPUBuffer[];
  constructor(
    private readonly gpu: Gpu,
    readonly selection: BlockSelection,
    label: string,
  ) {
    this.buffers = selection.blocks.map((s) => gpu.buffer(`${label}:${s.block.name}`, s.block.count * 4));
  }

  /** this <- current parameters */
  capture(encoder: GPUCommandEncoder): void {
    this.selection.blocks.forEach((s, i) => encoder.copyBufferToBuffer(s.block.param, 0, this.buffers[i], 0, s.block.count * 4));
  }

  /** current parameters <- this (bit-exact) */
  restore(encoder: GPUCommandEncoder): void {
    this.selection.blocks.forEach((s, i) => encoder.copyBufferToBuffer(this.buffers[i], 0, s.block.param, 0, s.block.count * 4));
  }

  copyFrom(encoder: GPUCommandEncoder, other: ParamSnapshot): void {
    this.selection.blocks.forEach((s, i) => encoder.copyBufferToBuffer(other.buffers[i], 0, this.buffers[i], 0, s.block.count * 4));
  }

  async toArrays(): Promise<number[][]> {
    const out: number[][] = [];
    for (let i = 0; i < this.buffers.length; i++) out.push(Array.from(await this.gpu.readF32(this.buffers[i], this.selection.blocks[i].block.count)));
    return out;
  }

  load(arrays: number[][]): void {
    this.selection.blocks.forEach((s, i) => {
      if (!Array.isArray(arrays[i]) || arrays[i].length !== s.block.count)
        throw new InputError(`saved policy state for block '${s.block.name}' has ${arrays[i]?.length ?? 0} values, the block has ${s.block.count}.`);
      this.gpu.write(this.buffers[i], new Float32Array(arrays[i]));
    });
  }

  destroy(): void {
    for (const b of this.buffers) b.destroy();
  }
}

/** Temporary uniforms and storage made for one submission, destroyed after it. */
class Scratch {
  private readonly items: GPUBuffer[] = [];
  constructor(private readonly gpu: Gpu) {}
  uniform(label: string, words: ArrayBuffer): GPUBuffer {
    const b = this.gpu.uniform(label, new Uint8Array(words));
    this.items.push(b);
    return b;
  }
  upload(label: string, data: ArrayBufferView): GPUBuffer {
    const b = this.gpu.upload(label, data);
    this.items.push(b);
    return b;
  }
  buffer(label: string, bytes: number): GPUBuffer {
    const b = this.gpu.buffer(label, bytes);
    this.items.push(b);
    return b;
  }
  destroy(): void {
    for (const b of this.items) b.destroy();
  }
}

function words(u32s: number[], f32s: { index: number; value: number }[], count: number): ArrayBuffer {
  const buf = new ArrayBuffer(count * 4);
  const u = new Uint32Array(buf);
  const f = new Float32Array(buf);
  u32s.forEach((v, i) => (u[i] = v >>> 0));
  for (const { index, value } of f32s) f[index] = value;
  return buf;
}

export interface NoiseDots {
  /** noise_g · (param - old) for each seed */
  dots: Float64Array;
  /** |param - old|^2 */
  distOld: number;
  /** |param - ref|^2 */
  distRef: number;
}

export class ParamPolicy {
  private constructor(
    private readonly gpu: Gpu,
    private readonly perturbKernel: GPUComputePipeline,
    private readonly dotKernel: GPUComputePipeline,
    private readonly gradKernel: GPUComputePipeline,
    private readonly lerpKernel: GPUComputePipeline,
  ) {}

  static async create(gpu: Gpu): Promise<ParamPolicy> {
    const [perturb, dot, grad, lerp] = await Promise.all([
      gpu.kernel({ file: 'rl/param_noise.wgsl', entry: 'perturb' }),
      gpu.kernel({ file: 'rl/noise_dot.wgsl', entry: 'noise_dot' }),
      gpu.kernel({ file: 'rl/noise_grad.wgsl', entry: 'noise_grad' }),
      gpu.kernel({ file: 'rl/noise_grad.wgsl', entry: 'lerp_towards' }),
    ]);
    return new ParamPolicy(gpu, perturb, dot, grad, lerp);
  }

  /** params <- base + scale * noise(seed) over the selection. */
  async perturb(selection: BlockSelection, base: ParamSnapshot, seed: number, scale: number): Promise<void> {
    const scratch = new Scratch(this.gpu);
    try {
      await this.gpu.run('rl:perturb', (enc) => {
        selection.blocks.forEach((s, i) => {
          const u = scratch.uniform('rl:perturb:params', words([s.block.count, s.offset, seed], [{ index: 3, value: scale }], 4));
          this.gpu.dispatch(enc, this.perturbKernel, [u, base.buffers[i], s.block.param], Math.ceil(s.block.count / WG));
        });
      });
    } finally {
      scratch.destroy();
    }
  }

  async restore(base: ParamSnapshot): Promise<void> {
    await this.gpu.run('rl:restore', (enc) => base.restore(enc));
  }

  /** Dot products of each seed's noise with (param - old), and the two squared distances. */
  async dots(selection: BlockSelection, seeds: number[], old: ParamSnapshot, ref: ParamSnapshot): Promise<NoiseDots> {
    const g = seeds.length;
    const slots = g + 2;
    const scratch = new Scratch(this.gpu);
    const partialBuffers: { buffer: GPUBuffer; groups: number }[] = [];
    try {
      const seedBuf = scratch.upload('rl:seeds', new Uint32Array(seeds.length ? seeds : [0]));
      await this.gpu.run('rl:noise_dot', (enc) => {
        selection.blocks.forEach((s, i) => {
          const groups = Math.ceil(s.block.count / WG);
          const partials = scratch.buffer('rl:noise_dot:partials', groups * slots * 4);
          partialBuffers.push({ buffer: partials, groups });
          const u = scratch.uniform('rl:noise_dot:params', words([s.block.count, s.offset, g, 0], [], 4));
          this.gpu.dispatch(enc, this.dotKernel, [u, seedBuf, s.block.param, old.buffers[i], ref.buffers[i], partials], groups);
        });
      });
      const sums = new Float64Array(slots);
      for (const { buffer, groups } of partialBuffers) {
        const p = await this.gpu.readF32(buffer, groups * slots);
        for (let w = 0; w < groups; w++) for (let k = 0; k < slots; k++) sums[k] += p[w * slots + k];
      }
      return { dots: sums.slice(0, g), distOld: sums[g], distRef: sums[g + 1] };
    } finally {
      scratch.destroy();
    }
  }

  /** grad += sum_g coefs[g] noise_g + cOld (param - old) + cRef (param - ref), per block. */
  async accumulateGrad(
    selection: BlockSelection,
    seeds: number[],
    coefs: number[],
    old: ParamSnapshot,
    cOld: number,
    ref: ParamSnapshot,
    cRef: number,
  ): Promise<void> {
    const scratch = new Scratch(this.gpu);
    try {
      const seedBuf = scratch.upload('rl:seeds', new Uint32Array(seeds.length ? seeds : [0]));
      const coefBuf = scratch.upload('rl:coefs', new Float32Array(coefs.length ? coefs : [0]));
      await this.gpu.run('rl:noise_grad', (enc) => {
        selection.blocks.forEach((s, i) => {
          const u = scratch.uniform(
            'rl:noise_grad:params',
            words([s.block.count, s.offset, seeds.length], [{ index: 3, value: cOld }, { index: 4, value: cRef }], 8),
          );
          this.gpu.dispatch(
            enc,
            this.gradKernel,
            [u, seedBuf, coefBuf, s.block.param, old.buffers[i], ref.buffers[i], s.block.grad],
            Math.ceil(s.block.count / WG),
          );
        });
      });
    } finally {
      scratch.destroy();
    }
  }

  /** ref <- ref + rate (params - ref): a moving reference. */
  async moveReference(selection: BlockSelection, ref: ParamSnapshot, rate: number): Promise<void> {
    const scratch = new Scratch(this.gpu);
    try {
      await this.gpu.run('rl:lerp_towards', (enc) => {
        selection.blocks.forEach((s, i) => {
          const u = scratch.uniform('rl:lerp:params', words([s.block.count], [{ index: 1, value: rate }], 4));
          this.gpu.dispatch(enc, this.lerpKernel, [u, s.block.param, ref.buffers[i]], Math.ceil(s.block.count / WG));
        });
      });
    } finally {
      scratch.destroy();
    }
  }
}
