/**
 * The HexPlane deformation field of 4DGS: six feature planes (xy, xz, yz, xt, yt, zt) per
 * resolution level, sampled bilinearly at the splat's normalised (x, y, z, t), multiplied
 * across planes and concatenated over levels, then a small MLP (one hidden ReLU layer) with
 * heads for position, rotation, scale and optionally opacity and SH DC colour offsets.
 * Time planes start at one and the output layer at zero, so a new field is exactly static.
 */
import { InputError } from '../../errors.ts';
import type { Gpu } from '../../gpu/gpu.ts';
import { Rng } from '../../train/rng.ts';
import type { GaussianData } from '../gaussian-data.ts';
import type { ParamBlock } from '../representation.ts';
import type {
  CanonicalGrads,
  CanonicalSplats,
  DeformCotangents,
  DeformationField,
  DeformationState,
  DeformedSplats,
  HexPlaneState,
} from './deformation-field.ts';
import { evaluateState } from './evaluate-state.ts';
import {
  DEFAULT_HEXPLANE,
  headMask,
  hexPlaneLayout,
  PLANE_AXES,
  validateHexPlaneConfig,
  type HexPlaneConfig,
  type HexPlaneLayout,
} from './hexplane-layout.ts';
import { OffsetApplier } from './offset-applier.ts';
import { OFFSET_STRIDE } from './offsets.ts';

const WG = 64;
/** Splats per MLP-gradient chunk; must match CHUNK in mlp_grad.wgsl. */
const MLP_GRAD_CHUNK = 256;
const UNIFORM_BYTES = 208;

/** Buffers for evaluating a HexPlane field at arbitrary points (HexPlaneField.pointScratch). */
export interface HexPlanePointScratch {
  offsets: GPUBuffer;
  feats: GPUBuffer;
  pre: GPUBuffer;
  dPre: GPUBuffer;
  capacity: number;
  destroy(): void;
}

export type HexPlaneOptions = Pick<HexPlaneConfig, 'boundsMin' | 'boundsMax'> & Partial<HexPlaneConfig>;

/** Initial parameters: time planes 1, spatial planes U(0.1, 0.5), W1 and b1 U(+-1/sqrt(inputs)), output layer 0. */
export function initialHexPlaneState(config: HexPlaneConfig, seed: number): HexPlaneState {
  validateHexPlaneConfig(config);
  const L = hexPlaneLayout(config);
  const rng = new Rng(seed);
  const planes = new Float32Array(L.planeFloats);
  for (let l = 0; l < L.levels; l++) {
    for (let p = 0; p < 6; p++) {
      const [w, h] = L.planeDims[l][p];
      const start = L.planeOffsets[l * 6 + p];
      const isTime = PLANE_AXES[p][1] === 3;
      for (let e = start; e < start + w * h * L.features; e++) planes[e] = isTime ? 1 : 0.1 + 0.4 * rng.next();
    }
  }
  const mlp = new Float32Array(L.mlpFloats);
  const bound = 1 / Math.sqrt(L.inputs);
  for (let e = L.w1; e < L.w2; e++) mlp[e] = bound * (2 * rng.next() - 1);
  return { kind: 'hexplane', config, planes, mlp };
}

class HexPlaneFrame implements DeformedSplats {
  means!: GPUBuffer;
  quats!: GPUBuffer;
  logScales!: GPUBuffer;
  opacityLogits?: GPUBuffer;
  sh?: GPUBuffer;
  /** Scratch of the backward pass, made on first use. */
  dOffsets?: GPUBuffer;
  dPre?: GPUBuffer;
  constructor(
    readonly field: HexPlaneField,
    readonly time: number,
    readonly count: number,
    readonly uniform: GPUBuffer,
    readonly offsets: GPUBuffer,
    readonly feats: GPUBuffer,
    readonly pre: GPUBuffer,
    readonly owned: GPUBuffer[],
  ) {}
  destroy(): void {
    for (const b of [this.uniform, this.offsets, this.feats, this.pre, this.dOffsets, this.dPre, ...this.owned]) b?.destroy();
  }
}

interface Kernels {
  fwd: GPUComputePipeline;
  bwdWithMeans: GPUComputePipeline;
  bwdNoMeans: GPUComputePipeline;
  mlpGrad: GPUComputePipeline;
}

export class HexPlaneField implements DeformationField {
  readonly kind = 'hexplane' as const;
  readonly layout: HexPlaneLayout;
  readonly planes: GPUBuffer;
  readonly planesGrad: GPUBuffer;
  readonly mlp: GPUBuffer;
  readonly mlpGrad: GPUBuffer;

  private constructor(
    private readonly gpu: Gpu,
    readonly config: HexPlaneConfig,
    private readonly kernels: Kernels,
    private readonly applier: OffsetApplier,
    state: HexPlaneState,
  ) {
    this.layout = hexPlaneLayout(config);
    this.planes = gpu.upload('deform.planes', state.planes);
    this.planesGrad = gpu.buffer('deform.planes.grad', this.layout.planeFloats * 4);
    this.mlp = gpu.upload('deform.mlp', state.mlp);
    this.mlpGrad = gpu.buffer('deform.mlp.grad', this.layout.mlpFloats * 4);
  }

  /** A new, static field over the given bounds; unspecified options take DEFAULT_HEXPLANE. */
  static async create(gpu: Gpu, options: HexPlaneOptions, seed: number): Promise<HexPlaneField> {
    const config: HexPlaneConfig = { ...DEFAULT_HEXPLANE, ...options };
    return HexPlaneField.fromStateOn(gpu, initialHexPlaneState(config, seed));
  }

  static async fromStateOn(gpu: Gpu, state: HexPlaneState): Promise<HexPlaneField> {
    validateHexPlaneConfig(state.config);
    checkShape(state, hexPlaneLayout(state.config));
    const [fwd, bwdWithMeans, bwdNoMeans, mlpGrad, applier] = await Promise.all([
      gpu.kernel({ file: 'deform/hexplane_fwd.wgsl', entry: 'hexplane_fwd' }),
      gpu.kernel({ file: 'deform/hexplane_bwd.wgsl', entry: 'hexplane_bwd', defines: { MEAN_GRAD: true } }),
      gpu.kernel({ file: 'deform/hexplane_bwd.wgsl', entry: 'hexplane_bwd', defines: { MEAN_GRAD: false } }),
      gpu.kernel({ file: 'deform/mlp_grad.wgsl', entry: 'mlp_grad_reduce' }),
      OffsetApplier.create(gpu),
    ]);
    return new HexPlaneField(gpu, state.config, { fwd, bwdWithMeans, bwdNoMeans, mlpGrad }, applier, state);
  }

  params(): ParamBlock[] {
    return [
      { name: 'deform.planes', param: this.planes, grad: this.planesGrad, count: this.layout.planeFloats, lr: this.config.lrPlanes },
      { name: 'deform.mlp', param: this.mlp, grad: this.mlpGrad, count: this.layout.mlpFloats, lr: this.config.lrMlp },
    ];
  }

  private uniformFor(count: number, time: number): GPUBuffer {
    const c = this.config;
    const L = this.layout;
    const bytes = new ArrayBuffer(UNIFORM_BYTES);
    const u = new Uint32Array(bytes);
    const f = new Float32Array(bytes);
    u.set([count, L.levels, L.features, L.hidden, headMask(c), c.timeResolution, L.mlpFloats, 0], 0);
    f.set([...c.boundsMin, c.timeRange[0]], 8);
    f.set([...c.boundsMax, c.timeRange[1]], 12);
    f.set([time, 0, 0, 0], 16);
    u.set(c.resolutions, 20);
    u.set(L.planeOffsets, 24);
    u.set([L.w1, L.b1, L.w2, L.b2], 48);
    return this.gpu.uniform(`deform.hexplane t=${time}`, u);
  }

  forward(encoder: GPUCommandEncoder, time: number, canonical: CanonicalSplats): DeformedSplats {
    const n = canonical.count;
    const L = this.layout;
    if (!Number.isFinite(time)) throw new InputError(`deformation time ${time} is not a finite number.`);
    const uniform = this.uniformFor(n, time);
    const offsets = this.gpu.buffer('deform.offsets', n * OFFSET_STRIDE * 4);
    const feats = this.gpu.buffer('deform.features', n * L.inputs * 4);
    const pre = this.gpu.buffer('deform.hidden', n * L.hidden * 4);
    this.gpu.dispatch(encoder, this.kernels.fwd, [uniform, canonical.means, this.planes, this.mlp, offsets, feats, pre], Math.ceil(n / WG));
    const applied = this.applier.forward(encoder, canonical, offsets, this.driven());
    const frame = new HexPlaneFrame(this, time, n, uniform, offsets, feats, pre, applied.owned);
    frame.means = applied.means;
    frame.quats = applied.quats;
    frame.logScales = applied.logScales;
    frame.opacityLogits = applied.opacityLogits;
    frame.sh = applied.sh;
    return frame;
  }

  backward(
    encoder: GPUCommandEncoder,
    frame: DeformedSplats,
    canonical: CanonicalSplats,
    cotangents: DeformCotangents,
    canonicalGrads: CanonicalGrads,
  ): void {
    if (!(frame instanceof HexPlaneFrame) || frame.field !== this) throw new InputError('backward needs a frame made by this field.');
    if (frame.count !== canonical.count) throw new InputError(`frame has ${frame.count} splats, canonical ${canonical.count}.`);
    const n = frame.count;
    frame.dOffsets ??= this.gpu.buffer('deform.offsets.cotangent', n * OFFSET_STRIDE * 4);
    frame.dPre ??= this.gpu.buffer('deform.hidden.cotangent', n * this.layout.hidden * 4);
    this.applier.backward(encoder, canonical, cotangents, canonicalGrads, this.driven(), frame.dOffsets);
    const common = [frame.uniform, frame.dOffsets, frame.pre, this.mlp, canonical.means, this.planes, this.planesGrad, frame.dPre];
    if (canonicalGrads.means) this.gpu.dispatch(encoder, this.kernels.bwdWithMeans, [...common, canonicalGrads.means], Math.ceil(n / WG));
    else this.gpu.dispatch(encoder, this.kernels.bwdNoMeans, common, Math.ceil(n / WG));
    const chunks = Math.ceil(n / MLP_GRAD_CHUNK);
    const perChunk = Math.ceil(this.layout.mlpFloats / WG);
    this.gpu.dispatch(
      encoder,
      this.kernels.mlpGrad,
      [frame.uniform, frame.feats, frame.pre, frame.dPre, frame.dOffsets, this.mlpGrad],
      chunks * perChunk,
    );
  }

  /** Scratch for evaluating the field at up to `capacity` arbitrary points (NeRF ray samples). */
  pointScratch(capacity: number): HexPlanePointScratch {
    const L = this.layout;
    this.gpu.checkSize('deform.point features', capacity * L.inputs * 4, 'the points evaluated per chunk');
    const bufs = {
      offsets: this.gpu.buffer('deform.point offsets', capacity * OFFSET_STRIDE * 4),
      feats: this.gpu.buffer('deform.point features', capacity * L.inputs * 4),
      pre: this.gpu.buffer('deform.point hidden', capacity * L.hidden * 4),
      dPre: this.gpu.buffer('deform.point hidden cotangent', capacity * L.hidden * 4),
    };
    return { ...bufs, capacity, destroy: () => Object.values(bufs).forEach((b) => b.destroy()) };
  }

  /**
   * Offsets [count][14] of the field at `count` points ([count][3] in `points`) at one time,
   * into scratch.offsets; features and hidden pre-activations stay in the scratch for
   * backwardPoints. Returns the dispatch's uniform, which the caller destroys after submission.
   */
  evaluatePoints(encoder: GPUCommandEncoder, time: number, points: GPUBuffer, count: number, scratch: HexPlanePointScratch): GPUBuffer {
    if (!Number.isFinite(time)) throw new InputError(`deformation time ${time} is not a finite number.`);
    if (count > scratch.capacity) throw new InputError(`HexPlane point evaluation: ${count} points exceed the scratch capacity ${scratch.capacity}.`);
    const uniform = this.uniformFor(count, time);
    this.gpu.dispatch(encoder, this.kernels.fwd, [uniform, points, this.planes, this.mlp, scratch.offsets, scratch.feats, scratch.pre], Math.ceil(count / WG));
    return uniform;
  }

  /** Adds the planes' and MLP's gradients of sum(dOffsets * offsets) over the points of evaluatePoints (same uniform and scratch). */
  backwardPoints(encoder: GPUCommandEncoder, uniform: GPUBuffer, points: GPUBuffer, count: number, scratch: HexPlanePointScratch, dOffsets: GPUBuffer): void {
    this.gpu.dispatch(encoder, this.kernels.bwdNoMeans, [uniform, dOffsets, scratch.pre, this.mlp, points, this.planes, this.planesGrad, scratch.dPre], Math.ceil(count / WG));
    const chunks = Math.ceil(count / MLP_GRAD_CHUNK);
    this.gpu.dispatch(encoder, this.kernels.mlpGrad, [uniform, scratch.feats, scratch.pre, scratch.dPre, dOffsets, this.mlpGrad], chunks * Math.ceil(this.layout.mlpFloats / WG));
  }

  zeroGrads(encoder: GPUCommandEncoder): void {
    this.gpu.clear(encoder, this.planesGrad);
    this.gpu.clear(encoder, this.mlpGrad);
  }

  async toState(): Promise<HexPlaneState> {
    const planes = await this.gpu.readF32(this.planes, this.layout.planeFloats);
    const mlp = await this.gpu.readF32(this.mlp, this.layout.mlpFloats);
    return { kind: 'hexplane', config: structuredClone(this.config), planes, mlp };
  }

  fromState(state: DeformationState): void {
    if (state.kind !== 'hexplane') throw new InputError(`a HexPlane field cannot load a '${state.kind}' state.`);
    if (JSON.stringify(hexPlaneLayout(state.config)) !== JSON.stringify(this.layout))
      throw new InputError('HexPlane state has a different layout (resolutions, features or hidden width) than this field.');
    checkShape(state, this.layout);
    this.gpu.write(this.planes, state.planes);
    this.gpu.write(this.mlp, state.mlp);
  }

  async evaluateCpu(time: number, canonical: GaussianData): Promise<GaussianData> {
    return evaluateState(await this.toState(), time, canonical);
  }

  destroy(): void {
    for (const b of [this.planes, this.planesGrad, this.mlp, this.mlpGrad]) b.destroy();
    this.applier.destroy();
  }

  private driven() {
    return { opacity: this.config.opacityHead, color: this.config.colorHead };
  }
}

function checkShape(state: HexPlaneState, L: HexPlaneLayout): void {
  if (state.planes.length !== L.planeFloats || state.mlp.length !== L.mlpFloats)
    throw new InputError(
      `HexPlane state has ${state.planes.length} plane and ${state.mlp.length} MLP floats; its config needs ${L.planeFloats} and ${L.mlpFloats}.`,
    );
}
