/**
 * Per-splat trajectories: each splat moves by a polynomial (degree P) plus K Fourier terms of
 * normalised time (see src/reference/deform/trajectory.ts for the basis), for position and
 * optionally the quaternion delta. Every basis function is zero at t0, so the canonical
 * splats are the frame at t0, and zero coefficients mean no motion. Compact and exportable:
 * the state is the coefficient arrays themselves.
 */
import { InputError } from '../../errors.ts';
import type { Gpu } from '../../gpu/gpu.ts';
import { basisSize, trajectoryBasisRef } from '../../reference/deform/trajectory.ts';
import type { GaussianData } from '../gaussian-data.ts';
import type { ParamBlock } from '../representation.ts';
import type {
  CanonicalGrads,
  CanonicalSplats,
  DeformCotangents,
  DeformationField,
  DeformationState,
  DeformedSplats,
  TrajectoryConfig,
  TrajectoryState,
} from './deformation-field.ts';
import { evaluateState } from './evaluate-state.ts';
import { OffsetApplier } from './offset-applier.ts';
import { OFFSET_STRIDE } from './offsets.ts';

const WG = 64;
const MAX_BASIS = 64;
const UNIFORM_BYTES = 16 + MAX_BASIS * 4;

export const DEFAULT_TRAJECTORY: TrajectoryConfig = { timeRange: [0, 1], degree: 2, frequencies: 2, rotation: false, lr: 1e-3 };

function validate(c: TrajectoryConfig): void {
  if (!Number.isInteger(c.degree) || c.degree < 0) throw new InputError(`trajectory 'degree' must be a non-negative integer, not ${c.degree}.`);
  if (!Number.isInteger(c.frequencies) || c.frequencies < 0)
    throw new InputError(`trajectory 'frequencies' must be a non-negative integer, not ${c.frequencies}.`);
  const b = basisSize(c);
  if (b < 1 || b > MAX_BASIS) throw new InputError(`trajectory degree + 2 * frequencies is ${b}; it must be in 1..${MAX_BASIS}.`);
  if (!(c.timeRange[1] > c.timeRange[0])) throw new InputError('trajectory timeRange must be increasing.');
}

class TrajectoryFrame implements DeformedSplats {
  means!: GPUBuffer;
  quats!: GPUBuffer;
  logScales!: GPUBuffer;
  opacityLogits?: GPUBuffer;
  sh?: GPUBuffer;
  dOffsets?: GPUBuffer;
  constructor(
    readonly field: TrajectoryField,
    readonly time: number,
    readonly count: number,
    readonly uniform: GPUBuffer,
    readonly offsets: GPUBuffer,
    readonly owned: GPUBuffer[],
  ) {}
  destroy(): void {
    for (const b of [this.uniform, this.offsets, this.dOffsets, ...this.owned]) b?.destroy();
  }
}

export class TrajectoryField implements DeformationField {
  readonly kind = 'trajectory' as const;
  readonly basis: number;
  readonly position: GPUBuffer;
  readonly positionGrad: GPUBuffer;
  /** A 4-byte stand-in buffer when rotation is off (the kernels bind it but never read it). */
  readonly rotation: GPUBuffer;
  readonly rotationGrad: GPUBuffer;

  private constructor(
    private readonly gpu: Gpu,
    readonly config: TrajectoryConfig,
    readonly count: number,
    private readonly fwd: GPUComputePipeline,
    private readonly bwd: GPUComputePipeline,
    private readonly applier: OffsetApplier,
    state: TrajectoryState,
  ) {
    this.basis = basisSize(config);
    this.position = gpu.upload('deform.trajectory.position', state.position);
    this.positionGrad = gpu.buffer('deform.trajectory.position.grad', state.position.byteLength);
    this.rotation = gpu.upload('deform.trajectory.rotation', state.rotation ?? new Float32Array(1));
    this.rotationGrad = gpu.buffer('deform.trajectory.rotation.grad', state.rotation?.byteLength ?? 4);
  }

  /** Zero coefficients for `count` splats: no motion until trained. */
  static async create(gpu: Gpu, count: number, options: Partial<TrajectoryConfig> = {}): Promise<TrajectoryField> {
    const config = { ...DEFAULT_TRAJECTORY, ...options };
    validate(config);
    const B = basisSize(config);
    return TrajectoryField.fromStateOn(gpu, {
      kind: 'trajectory',
      config,
      count,
      position: new Float32Array(count * B * 3),
      rotation: config.rotation ? new Float32Array(count * B * 4) : null,
    });
  }

  static async fromStateOn(gpu: Gpu, state: TrajectoryState): Promise<TrajectoryField> {
    validate(state.config);
    checkShape(state);
    const [fwd, bwd, applier] = await Promise.all([
      gpu.kernel({ file: 'deform/trajectory.wgsl', entry: 'trajectory_fwd', defines: { BACKWARD: false } }),
      gpu.kernel({ file: 'deform/trajectory.wgsl', entry: 'trajectory_bwd', defines: { BACKWARD: true } }),
      OffsetApplier.create(gpu),
    ]);
    return new TrajectoryField(gpu, state.config, state.count, fwd, bwd, applier, state);
  }

  params(): ParamBlock[] {
    const blocks: ParamBlock[] = [
      { name: 'deform.trajectory.position', param: this.position, grad: this.positionGrad, count: this.count * this.basis * 3, lr: this.config.lr },
    ];
    if (this.config.rotation)
      blocks.push({ name: 'deform.trajectory.rotation', param: this.rotation, grad: this.rotationGrad, count: this.count * this.basis * 4, lr: this.config.lr });
    return blocks;
  }

  private uniformFor(time: number): GPUBuffer {
    const bytes = new ArrayBuffer(UNIFORM_BYTES);
    new Uint32Array(bytes, 0, 4).set([this.count, this.basis, this.config.rotation ? 1 : 0, 0]);
    new Float32Array(bytes, 16, MAX_BASIS).set(trajectoryBasisRef(this.config, time));
    return this.gpu.uniform(`deform.trajectory t=${time}`, new Uint8Array(bytes));
  }

  forward(encoder: GPUCommandEncoder, time: number, canonical: CanonicalSplats): DeformedSplats {
    if (canonical.count !== this.count)
      throw new InputError(`the trajectory field has ${this.count} splats but the canonical splats number ${canonical.count}.`);
    if (!Number.isFinite(time)) throw new InputError(`deformation time ${time} is not a finite number.`);
    const uniform = this.uniformFor(time);
    const offsets = this.gpu.buffer('deform.offsets', this.count * OFFSET_STRIDE * 4);
    this.gpu.dispatch(encoder, this.fwd, [uniform, this.position, this.rotation, offsets], Math.ceil(this.count / WG));
    const applied = this.applier.forward(encoder, canonical, offsets, { opacity: false, color: false });
    const frame = new TrajectoryFrame(this, time, this.count, uniform, offsets, applied.owned);
    Object.assign(frame, { means: applied.means, quats: applied.quats, logScales: applied.logScales, opacityLogits: applied.opacityLogits, sh: applied.sh });
    return frame;
  }

  backward(
    encoder: GPUCommandEncoder,
    frame: DeformedSplats,
    canonical: CanonicalSplats,
    cotangents: DeformCotangents,
    canonicalGrads: CanonicalGrads,
  ): void {
    if (!(frame instanceof TrajectoryFrame) || frame.field !== this) throw new InputError('backward needs a frame made by this field.');
    frame.dOffsets ??= this.gpu.buffer('deform.offsets.cotangent', this.count * OFFSET_STRIDE * 4);
    this.applier.backward(encoder, canonical, cotangents, canonicalGrads, { opacity: false, color: false }, frame.dOffsets);
    this.gpu.dispatch(encoder, this.bwd, [frame.uniform, frame.dOffsets, this.positionGrad, this.rotationGrad], Math.ceil(this.count / WG));
  }

  zeroGrads(encoder: GPUCommandEncoder): void {
    this.gpu.clear(encoder, this.positionGrad);
    this.gpu.clear(encoder, this.rotationGrad);
  }

  async toState(): Promise<TrajectoryState> {
    const position = await this.gpu.readF32(this.position, this.count * this.basis * 3);
    const rotation = this.config.rotation ? await this.gpu.readF32(this.rotation, this.count * this.basis * 4) : null;
    return { kind: 'trajectory', config: structuredClone(this.config), count: this.count, position, rotation };
  }

  fromState(state: DeformationState): void {
    if (state.kind !== 'trajectory') throw new InputError(`a trajectory field cannot load a '${state.kind}' state.`);
    if (state.count !== this.count || basisSize(state.config) !== this.basis || state.config.rotation !== this.config.rotation)
      throw new InputError('trajectory state has a different splat count, basis or rotation option than this field.');
    checkShape(state);
    this.gpu.write(this.position, state.position);
    if (state.rotation) this.gpu.write(this.rotation, state.rotation);
  }

  async evaluateCpu(time: number, canonical: GaussianData): Promise<GaussianData> {
    return evaluateState(await this.toState(), time, canonical);
  }

  destroy(): void {
    for (const b of [this.position, this.positionGrad, this.rotation, this.rotationGrad]) b.destroy();
    this.applier.destroy();
  }
}

function checkShape(s: TrajectoryState): void {
  const B = basisSize(s.config);
  if (s.position.length !== s.count * B * 3) throw new InputError(`trajectory position has ${s.position.length} floats; ${s.count * B * 3} expected.`);
  if (s.config.rotation && s.rotation?.length !== s.count * B * 4)
    throw new InputError(`trajectory rotation has ${s.rotation?.length ?? 0} floats; ${s.count * B * 4} expected.`);
}
