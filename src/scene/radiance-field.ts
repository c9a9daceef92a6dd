/**
 * A NeRF radiance field: instant-ngp style multi-resolution hash encoding feeding one ReLU
 * hidden layer, with a trunc-exp density head and a sigmoid colour head (optionally seeing
 * degree-2 SH of the view direction). Parameters live in two f32 GPU buffers (hash table
 * and packed MLP, see nerf/layout.ts) with gradient buffers of the same size, and an
 * occupancy grid that ray marching uses to skip empty space.
 */
import type { Gpu } from '../gpu/gpu.ts';
import { InputError } from '../errors.ts';
import type { Camera } from '../math/camera.ts';
import type { RenderCotangents } from '../render/types.ts';
import { Rng } from '../train/rng.ts';
import type { ParamBlock, Representation } from './representation.ts';
import { fieldLayout, fieldUniformBytes, type FieldLayout, type RadianceFieldConfig } from './nerf/layout.ts';
import { OccupancyGrid, type OccupancyUpdateOptions } from './nerf/occupancy-grid.ts';
import { NerfRenderer, type NerfFrame, type NerfRenderOptions } from '../render/nerf/renderer.ts';

export type { RadianceFieldConfig } from './nerf/layout.ts';

export interface RadianceFieldState {
  kind: 'nerf';
  config: RadianceFieldConfig;
  hash: Float32Array;
  mlp: Float32Array;
  occupancy: Uint32Array;
  occupancyDensity: Float32Array;
}

export interface RadianceFieldLearningRates {
  hash: number;
  mlp: number;
}

/** Host-side initial parameters: hash features uniform in +-featureInit, Kaiming-uniform weights, zero biases. */
export function initialFieldParams(cfg: RadianceFieldConfig, layout: FieldLayout = fieldLayout(cfg)): { hash: Float32Array; mlp: Float32Array } {
  const rng = new Rng(cfg.seed >>> 0);
  const fi = cfg.featureInit ?? 1e-4;
  const hash = new Float32Array(layout.hashCount);
  for (let i = 0; i < hash.length; i++) hash[i] = rng.uniform(-fi, fi);
  const mlp = new Float32Array(layout.mlpCount);
  const o = layout.offsets;
  const fill = (start: number, count: number, fanIn: number) => {
    const b = Math.sqrt(6 / fanIn);
    for (let i = 0; i < count; i++) mlp[start + i] = rng.uniform(-b, b);
  };
  fill(o.w1, layout.hidden * layout.encodingDim, layout.encodingDim);
  fill(o.wSigma, layout.hidden, layout.hidden);
  fill(o.wColour, 3 * layout.colourInputs, layout.colourInputs);
  return { hash, mlp };
}

export class RadianceField implements Representation {
  readonly kind = 'nerf' as const;
  readonly config: RadianceFieldConfig;
  readonly layout: FieldLayout;
  /** FieldParams uniform of shaders/nerf/field.wgsl. */
  readonly uniform: GPUBuffer;
  readonly hash: GPUBuffer;
  readonly hashGrad: GPUBuffer;
  readonly mlp: GPUBuffer;
  readonly mlpGrad: GPUBuffer;
  readonly occupancy: OccupancyGrid;
  lr: RadianceFieldLearningRates;
  private renderer?: NerfRenderer;

  private constructor(readonly gpu: Gpu, config: RadianceFieldConfig, hash: Float32Array, mlp: Float32Array, lr?: Partial<RadianceFieldLearningRates>) {
    this.config = structuredClone(config);
    this.layout = fieldLayout(config);
    if (hash.length !== this.layout.hashCount || mlp.length !== this.layout.mlpCount)
      throw new InputError(`radiance field: expected ${this.layout.hashCount} hash and ${this.layout.mlpCount} MLP values, got ${hash.length} and ${mlp.length}.`);
    for (const [name, arr] of [['hash', hash], ['mlp', mlp]] as const) {
      const bad = arr.findIndex((v) => !Number.isFinite(v));
      if (bad >= 0) throw new InputError(`radiance field: '${name}' parameter ${bad} is ${arr[bad]}.`);
    }
    gpu.checkSize('nerf hash table', hash.byteLength, 'log2TableSize, levels or featuresPerLevel');
    this.uniform = gpu.uniform('nerf field params', new Uint8Array(fieldUniformBytes(this.layout)));
    this.hash = gpu.upload('nerf hash table', hash);
    this.hashGrad = gpu.buffer('nerf hash grad', hash.byteLength);
    this.mlp = gpu.upload('nerf mlp', mlp);
    this.mlpGrad = gpu.buffer('nerf mlp grad', mlp.byteLength);
    this.occupancy = new OccupancyGrid(gpu, config.occupancyResolution ?? 64);
    this.lr = { hash: lr?.hash ?? 1e-2, mlp: lr?.mlp ?? 1e-3 };
  }

  static async create(gpu: Gpu, config: RadianceFieldConfig, lr?: Partial<RadianceFieldLearningRates>): Promise<RadianceField> {
    const layout = fieldLayout(config);
    const { hash, mlp } = initialFieldParams(config, layout);
    return new RadianceField(gpu, config, hash, mlp, lr);
  }

  /** A field with given parameters (tests, checkpoints). */
  static fromParams(gpu: Gpu, config: RadianceFieldConfig, hash: Float32Array, mlp: Float32Array, lr?: Partial<RadianceFieldLearningRates>): RadianceField {
    return new RadianceField(gpu, config, hash, mlp, lr);
  }

  static async fromState(gpu: Gpu, state: RadianceFieldState, lr?: Partial<RadianceFieldLearningRates>): Promise<RadianceField> {
    if (state?.kind !== 'nerf') throw new InputError(`checkpoint: expected a 'nerf' state, got '${state?.kind}'.`);
    const field = new RadianceField(gpu, state.config, Float32Array.from(state.hash), Float32Array.from(state.mlp), lr);
    if (state.occupancy?.length === field.occupancy.cellCount) {
      gpu.write(field.occupancy.flags, Uint32Array.from(state.occupancy));
      gpu.write(field.occupancy.density, Float32Array.from(state.occupancyDensity));
    }
    return field;
  }

  async toState(): Promise<RadianceFieldState> {
    const { hash, mlp } = await this.readParams();
    return {
      kind: 'nerf',
      config: structuredClone(this.config),
      hash,
      mlp,
      occupancy: await this.occupancy.readFlags(),
      occupancyDensity: await this.gpu.readF32(this.occupancy.density, this.occupancy.cellCount),
    };
  }

  async readParams(): Promise<{ hash: Float32Array; mlp: Float32Array }> {
    return {
      hash: await this.gpu.readF32(this.hash, this.layout.hashCount),
      mlp: await this.gpu.readF32(this.mlp, this.layout.mlpCount),
    };
  }

  async readGrads(): Promise<{ hash: Float32Array; mlp: Float32Array }> {
    return {
      hash: await this.gpu.readF32(this.hashGrad, this.layout.hashCount),
      mlp: await this.gpu.readF32(this.mlpGrad, this.layout.mlpCount),
    };
  }

  params(): ParamBlock[] {
    return [
      { name: 'nerf.hash', param: this.hash, grad: this.hashGrad, count: this.layout.hashCount, lr: this.lr.hash },
      { name: 'nerf.mlp', param: this.mlp, grad: this.mlpGrad, count: this.layout.mlpCount, lr: this.lr.mlp },
    ];
  }

  zeroGrads(encoder: GPUCommandEncoder): void {
    this.gpu.clear(encoder, this.hashGrad);
    this.gpu.clear(encoder, this.mlpGrad);
  }

  updateOccupancy(opts: OccupancyUpdateOptions = {}): Promise<void> {
    return this.occupancy.update(this, opts);
  }

  private async rendererFor(): Promise<NerfRenderer> {
    this.renderer ??= await NerfRenderer.create(this.gpu);
    return this.renderer;
  }

  async render(cameras: Camera[], options: NerfRenderOptions = {}): Promise<NerfFrame> {
    return (await this.rendererFor()).forward(this, cameras, options);
  }

  async backward(frame: NerfFrame, cotangents: RenderCotangents): Promise<void> {
    return (await this.rendererFor()).backward(frame, cotangents);
  }

  destroy(): void {
    this.renderer?.destroy();
    for (const b of [this.uniform, this.hash, this.hashGrad, this.mlp, this.mlpGrad]) b.destroy();
    this.occupancy.destroy();
  }
}
