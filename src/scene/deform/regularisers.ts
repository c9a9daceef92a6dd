/**
 * Regularisers of a deformation field, each a loss (returned to the CPU as a number) whose
 * gradient is added into the field's grads (and, through the field, the canonical grads):
 * - temporal smoothness: second difference of the deformed means at t - dt, t, t + dt;
 * - plane total variation of a HexPlane field's planes;
 * - local rigidity: distances to the canonical k nearest neighbours kept over time.
 * The record* methods take GPU buffers directly for callers that keep losses on the GPU.
 */
import { InputError } from '../../errors.ts';
import type { Gpu } from '../../gpu/gpu.ts';
import type { CanonicalGrads, CanonicalSplats, DeformationField, DeformedSplats } from './deformation-field.ts';
import type { HexPlaneField } from './hexplane-field.ts';
import type { Neighbourhood } from './knn.ts';

const WG = 64;
const MAX_PLANES = 24;

export interface GpuNeighbourhood {
  count: number;
  k: number;
  indices: GPUBuffer;
  weights: GPUBuffer;
  destroy(): void;
}

export function uploadNeighbourhood(gpu: Gpu, nb: Neighbourhood): GpuNeighbourhood {
  const indices = gpu.upload('deform.knn.indices', nb.indices);
  const weights = gpu.upload('deform.knn.weights', nb.weights);
  return {
    count: nb.indices.length / nb.k,
    k: nb.k,
    indices,
    weights,
    destroy: () => {
      indices.destroy();
      weights.destroy();
    },
  };
}

export class DeformRegularisers {
  private constructor(
    private readonly gpu: Gpu,
    private readonly smooth: GPUComputePipeline,
    private readonly tv: GPUComputePipeline,
    private readonly rigid: GPUComputePipeline,
  ) {}

  static async create(gpu: Gpu): Promise<DeformRegularisers> {
    const [smooth, tv, rigid] = await Promise.all([
      gpu.kernel({ file: 'deform/temporal_smoothness.wgsl', entry: 'temporal_smoothness' }),
      gpu.kernel({ file: 'deform/plane_tv.wgsl', entry: 'plane_tv' }),
      gpu.kernel({ file: 'deform/rigidity.wgsl', entry: 'rigidity' }),
    ]);
    return new DeformRegularisers(gpu, smooth, tv, rigid);
  }

  /** Adds weight * mean_i |next_i - 2 cur_i + prev_i|^2 to `loss` and its gradient to d*. */
  recordTemporalSmoothness(
    encoder: GPUCommandEncoder,
    count: number,
    means: [GPUBuffer, GPUBuffer, GPUBuffer],
    cotangents: [GPUBuffer, GPUBuffer, GPUBuffer],
    weight: number,
    loss: GPUBuffer,
  ): GPUBuffer {
    const bytes = new ArrayBuffer(16);
    new Uint32Array(bytes)[0] = count * 3;
    new Float32Array(bytes)[1] = weight / count;
    const u = this.gpu.uniform('deform.smoothness', new Uint8Array(bytes));
    this.gpu.dispatch(encoder, this.smooth, [u, ...means, ...cotangents, loss], Math.ceil((count * 3) / WG));
    return u;
  }

  /** Adds weight * TV(planes) to `loss` and its gradient to the field's plane grads. */
  recordPlaneTV(encoder: GPUCommandEncoder, field: HexPlaneField, weight: number, loss: GPUBuffer): GPUBuffer {
    const L = field.layout;
    const planes = L.levels * 6;
    if (planes > MAX_PLANES) throw new InputError(`plane TV supports ${MAX_PLANES} planes; this field has ${planes}.`);
    const bytes = new ArrayBuffer(16 + MAX_PLANES * 16);
    const u32 = new Uint32Array(bytes);
    u32.set([L.planeFloats, planes, L.features]);
    new Float32Array(bytes)[3] = weight;
    for (let l = 0; l < L.levels; l++)
      for (let p = 0; p < 6; p++) u32.set([L.planeOffsets[l * 6 + p], ...L.planeDims[l][p], 0], 4 + (l * 6 + p) * 4);
    const u = this.gpu.uniform('deform.plane_tv', u32);
    this.gpu.dispatch(encoder, this.tv, [u, field.planes, field.planesGrad, loss], Math.ceil(L.planeFloats / WG));
    return u;
  }

  /** Adds weight * rigidity(deformed) to `loss` and its gradient to `grad` (cotangent of the deformed means). */
  recordRigidity(
    encoder: GPUCommandEncoder,
    canonicalMeans: GPUBuffer,
    deformedMeans: GPUBuffer,
    nb: GpuNeighbourhood,
    weight: number,
    grad: GPUBuffer,
    loss: GPUBuffer,
  ): GPUBuffer {
    const bytes = new ArrayBuffer(16);
    new Uint32Array(bytes).set([nb.count, nb.k]);
    new Float32Array(bytes)[2] = weight / (nb.count * nb.k);
    const u = this.gpu.uniform('deform.rigidity', new Uint8Array(bytes));
    this.gpu.dispatch(encoder, this.rigid, [u, canonicalMeans, deformedMeans, nb.indices, nb.weights, grad, loss], Math.ceil(nb.count / WG));
    return u;
  }

  /** Temporal smoothness of `field` at `time`: three forwards, the loss, three backwards. */
  async temporalSmoothness(
    field: DeformationField,
    canonical: CanonicalSplats,
    canonicalGrads: CanonicalGrads,
    time: number,
    dt: number,
    weight: number,
  ): Promise<number> {
    const n = canonical.count;
    const loss = this.gpu.buffer('deform.loss', 4);
    const cot = [0, 1, 2].map((k) => this.gpu.buffer(`deform.smoothness.cotangent${k}`, n * 12));
    const temps: GPUBuffer[] = [loss, ...cot];
    let fr: DeformedSplats[] = [];
    await this.gpu.run('deform.temporal_smoothness', (enc) => {
      fr = [time - dt, time, time + dt].map((t) => field.forward(enc, t, canonical));
      temps.push(
        this.recordTemporalSmoothness(enc, n, [fr[0].means, fr[1].means, fr[2].means], [cot[0], cot[1], cot[2]], weight, loss),
      );
      fr.forEach((f, k) => field.backward(enc, f, canonical, { means: cot[k] }, canonicalGrads));
    });
    const value = (await this.gpu.readF32(loss, 1))[0];
    for (const f of fr) f.destroy();
    for (const b of temps) b.destroy();
    return value;
  }

  async planeTV(field: HexPlaneField, weight: number): Promise<number> {
    const loss = this.gpu.buffer('deform.loss', 4);
    let u: GPUBuffer | undefined;
    await this.gpu.run('deform.plane_tv', (enc) => {
      u = this.recordPlaneTV(enc, field, weight, loss);
    });
    const value = (await this.gpu.readF32(loss, 1))[0];
    loss.destroy();
    u?.destroy();
    return value;
  }

  /** Local rigidity of the deformed means at `time` against the canonical neighbourhood. */
  async rigidity(
    field: DeformationField,
    canonical: CanonicalSplats,
    canonicalGrads: CanonicalGrads,
    time: number,
    nb: GpuNeighbourhood,
    weight: number,
  ): Promise<number> {
    if (nb.count !== canonical.count) throw new InputError(`neighbourhood has ${nb.count} splats, canonical ${canonical.count}.`);
    const loss = this.gpu.buffer('deform.loss', 4);
    const cot = this.gpu.buffer('deform.rigidity.cotangent', canonical.count * 12);
    const temps: GPUBuffer[] = [loss, cot];
    let frame: DeformedSplats | undefined;
    await this.gpu.run('deform.rigidity', (enc) => {
      frame = field.forward(enc, time, canonical);
      temps.push(this.recordRigidity(enc, canonical.means, frame.means, nb, weight, cot, loss));
      field.backward(enc, frame, canonical, { means: cot }, canonicalGrads);
    });
    const value = (await this.gpu.readF32(loss, 1))[0];
    frame?.destroy();
    for (const b of temps) b.destroy();
    return value;
  }
}
