/**
 * Adam in WGSL with one learning rate per parameter group (gsplat's defaults: beta1 0.9,
 * beta2 0.999, eps 1e-15). Moments live on the GPU beside the parameters; the step counter
 * and the bias-correction factors live here. State exports and imports exactly, so a
 * resumed run continues bit for bit.
 */
import { InputError } from '../errors.ts';
import type { Gpu } from '../gpu/gpu.ts';
import { adamFactors, type AdamHyper } from '../reference/adam.ts';

const SHADER = { file: 'optim/adam.wgsl', entry: 'adam_step' };
const WORKGROUP = 256;
const PARAMS_BYTES = 32;

export interface ParamGroup {
  name: string;
  param: GPUBuffer;
  grad: GPUBuffer;
  /** Number of f32 elements. */
  count: number;
  lr: number;
}

export interface AdamOptions {
  beta1?: number;
  beta2?: number;
  eps?: number;
}

export interface AdamGroupState {
  name: string;
  count: number;
  lr: number;
  m: Float32Array;
  v: Float32Array;
}

export interface AdamState {
  step: number;
  beta1: number;
  beta2: number;
  eps: number;
  groups: AdamGroupState[];
}

interface Group extends ParamGroup {
  m: GPUBuffer;
  v: GPUBuffer;
}

function checkGroup(name: string, param: GPUBuffer, grad: GPUBuffer, count: number, lr?: number): void {
  if (!Number.isInteger(count) || count < 0) throw new InputError(`Adam group '${name}': count must be a non-negative integer, got ${count}.`);
  if (param === grad) throw new InputError(`Adam group '${name}': param and grad must be different buffers.`);
  for (const [what, b] of [['param', param], ['grad', grad]] as const) {
    if (b.size < count * 4) throw new InputError(`Adam group '${name}': ${what} buffer '${b.label}' holds ${Math.floor(b.size / 4)} f32, fewer than count ${count}.`);
  }
  if (lr !== undefined && !(Number.isFinite(lr) && lr >= 0)) throw new InputError(`Adam group '${name}': learning rate must be a finite number >= 0, got ${lr}.`);
}

export class Adam {
  private readonly gpu: Gpu;
  private readonly pipeline: GPUComputePipeline;
  private readonly hyper: AdamHyper;
  private readonly groups = new Map<string, Group>();
  private step_ = 0;

  private constructor(gpu: Gpu, pipeline: GPUComputePipeline, hyper: AdamHyper) {
    this.gpu = gpu;
    this.pipeline = pipeline;
    this.hyper = hyper;
  }

  static async create(gpu: Gpu, groups: ParamGroup[], opts: AdamOptions = {}): Promise<Adam> {
    const hyper = { beta1: opts.beta1 ?? 0.9, beta2: opts.beta2 ?? 0.999, eps: opts.eps ?? 1e-15 };
    if (!(hyper.beta1 >= 0 && hyper.beta1 < 1)) throw new InputError(`Adam: beta1 must be in [0, 1), got ${hyper.beta1}.`);
    if (!(hyper.beta2 >= 0 && hyper.beta2 < 1)) throw new InputError(`Adam: beta2 must be in [0, 1), got ${hyper.beta2}.`);
    if (!(hyper.eps >= 0 && Number.isFinite(hyper.eps))) throw new InputError(`Adam: eps must be a finite number >= 0, got ${hyper.eps}.`);
    const adam = new Adam(gpu, await gpu.kernel(SHADER), hyper);
    for (const g of groups) {
      if (adam.groups.has(g.name)) throw new InputError(`Adam: parameter group '${g.name}' is given twice.`);
      checkGroup(g.name, g.param, g.grad, g.count, g.lr);
      adam.groups.set(g.name, { ...g, ...adam.allocMoments(g.name, g.count) });
    }
    return adam;
  }

  get stepCount(): number {
    return this.step_;
  }

  get groupNames(): string[] {
    return [...this.groups.keys()];
  }

  /**
   * Records one Adam step on every group and advances the step counter. With
   * `zeroGrads`, each group's gradient is cleared after it is used.
   */
  step(encoder: GPUCommandEncoder, options: { zeroGrads?: boolean } = {}): void {
    this.step_ += 1;
    // One dispatch per binding range of each group: buffers over the binding limit (SH at
    // 1M splats) are bound range by range at aligned offsets.
    const passes = [...this.groups.values()].flatMap((g) => this.gpu.bindingRanges(g.count * 4).map((r) => ({ g, ...r })));
    // A fresh uniform per step: queue writes to a shared one would all land before any
    // recorded step runs, so two steps recorded in one encoder would see the same values.
    const stride = Math.max(PARAMS_BYTES, this.gpu.limits.minUniformBufferOffsetAlignment);
    const bytes = new ArrayBuffer(Math.max(1, passes.length) * stride);
    passes.forEach(({ g, size }, k) => {
      const f = adamFactors(g.lr, this.step_, this.hyper);
      const u = new Uint32Array(bytes, k * stride, 1);
      u[0] = size / 4;
      new Float32Array(bytes, k * stride + 4, 7).set([f.stepSize, f.beta1, f.beta2, f.oneMinusBeta1, f.oneMinusBeta2, f.eps, f.sqrtBc2]);
    });
    const uniform = this.gpu.uniform(`adam params (step ${this.step_})`, new Uint8Array(bytes));
    passes.forEach(({ g, offset, size }, k) => {
      if (size === 0) return;
      const params = { buffer: uniform, offset: k * stride, size: PARAMS_BYTES };
      const range = (buffer: GPUBuffer) => ({ buffer, offset, size });
      this.gpu.dispatch(encoder, this.pipeline, [params, range(g.param), range(g.grad), range(g.m), range(g.v)], Math.ceil(size / 4 / WORKGROUP));
    });
    if (options.zeroGrads) for (const g of this.groups.values()) this.gpu.clear(encoder, g.grad, g.count * 4);
  }

  setLearningRate(name: string, lr: number): void {
    const g = this.group(name);
    checkGroup(name, g.param, g.grad, g.count, lr);
    g.lr = lr;
  }

  learningRate(name: string): number {
    return this.group(name).lr;
  }

  /** The moment buffers of a group (count f32 each), for GPU-side densification. */
  moments(name: string): { m: GPUBuffer; v: GPUBuffer } {
    const g = this.group(name);
    return { m: g.m, v: g.v };
  }

  /**
   * Points a group at new buffers (after densification or pruning) with new moments, zero
   * when omitted. Destroys the old moments: call after earlier recorded steps were submitted.
   */
  replaceGroup(name: string, param: GPUBuffer, grad: GPUBuffer, count: number, moments?: { m: Float32Array; v: Float32Array }): void {
    const g = this.group(name);
    checkGroup(name, param, grad, count);
    if (moments && (moments.m.length !== count || moments.v.length !== count)) {
      throw new InputError(`Adam group '${name}': new moments have ${moments.m.length} and ${moments.v.length} values; count is ${count}.`);
    }
    g.m.destroy();
    g.v.destroy();
    Object.assign(g, { param, grad, count }, this.allocMoments(name, count, moments));
  }

  async exportState(): Promise<AdamState> {
    const groups: AdamGroupState[] = [];
    for (const g of this.groups.values()) {
      groups.push({ name: g.name, count: g.count, lr: g.lr, m: await this.gpu.readF32(g.m, g.count), v: await this.gpu.readF32(g.v, g.count) });
    }
    return { step: this.step_, ...this.hyper, groups };
  }

  /** Restores step, learning rates and moments; groups must match by name and count. */
  importState(state: AdamState): void {
    if (!Number.isInteger(state.step) || state.step < 0) throw new InputError(`Adam state: step must be a non-negative integer, got ${state.step}.`);
    for (const key of ['beta1', 'beta2', 'eps'] as const) {
      if (state[key] !== this.hyper[key]) throw new InputError(`Adam state: ${key} is ${state[key]}, this optimizer uses ${this.hyper[key]}.`);
    }
    const names = state.groups.map((s) => s.name).sort();
    if (names.join('\n') !== this.groupNames.sort().join('\n')) {
      throw new InputError(`Adam state: groups [${names.join(', ')}] do not match this optimizer's [${this.groupNames.join(', ')}].`);
    }
    for (const s of state.groups) {
      const g = this.group(s.name);
      if (s.count !== g.count || s.m.length !== g.count || s.v.length !== g.count) {
        throw new InputError(`Adam state: group '${s.name}' has ${s.count} values (m ${s.m.length}, v ${s.v.length}); the optimizer has ${g.count}.`);
      }
      checkGroup(s.name, g.param, g.grad, g.count, s.lr);
    }
    for (const s of state.groups) {
      const g = this.group(s.name);
      g.lr = s.lr;
      this.gpu.write(g.m, s.m);
      this.gpu.write(g.v, s.v);
    }
    this.step_ = state.step;
  }

  destroy(): void {
    for (const g of this.groups.values()) {
      g.m.destroy();
      g.v.destroy();
    }
    this.groups.clear();
  }

  private group(name: string): Group {
    const g = this.groups.get(name);
    if (!g) throw new InputError(`Adam: no parameter group '${name}' (groups: ${this.groupNames.join(', ')}).`);
    return g;
  }

  private allocMoments(name: string, count: number, init?: { m: Float32Array; v: Float32Array }): { m: GPUBuffer; v: GPUBuffer } {
    const what = `the size of parameter group '${name}'`;
    // Bound in ranges by step(), so only the buffer limit applies.
    this.gpu.checkSize(`adam ${name} moments`, count * 4, what, true);
    if (init) return { m: this.gpu.upload(`adam ${name} m`, init.m, undefined, true), v: this.gpu.upload(`adam ${name} v`, init.v, undefined, true) };
    return { m: this.gpu.buffer(`adam ${name} m`, count * 4, undefined, true), v: this.gpu.buffer(`adam ${name} v`, count * 4, undefined, true) };
  }
}
