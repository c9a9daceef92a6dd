/**
 * `consistency`: agreement between the views of one batch, higher is better; differentiable
 * in rgb, alpha, depth and normal of every view.
 *   score_i = -( wPhoto * photometric error of i's surface reprojected into its neighbours
 *              + wGeo   * relative depth error there (background where i sees surface = 1)
 *              + wJanus * soft max over roughly opposite views of the Janus similarity )
 * Reprojection: each pixel's surface point (depth / alpha) is moved into the neighbour and the
 * neighbour's rgb, alpha and depth are sampled bilinearly there. Masks are sigmoids: alpha
 * around `solidAlpha` with scale `alphaSoftness`, and an occlusion weight on the relative depth
 * with scale tau / 2, so points hidden behind the neighbour's surface fade out. Errors are
 * Charbonnier (a rounded |x|); the depth error saturates as 1 - exp(-|rel|).
 * Janus: weighted normalised cross-correlation of the grey images of opposite views, as is and
 * mirrored, over surface that each view sees and the other cannot (normal sigmoid), with a
 * smooth max(0, .), an overlap gate and a smooth chromaticity damping (a real object's back
 * does not repeat its front's pattern and colours).
 * Points fade out over the outermost pixel of the neighbour's frame (smoothstep), so leaving
 * the frame or passing behind the neighbour's camera is continuous. Piecewise smooth, not
 * smooth, at: source alpha 0.01 (fainter pixels are skipped: a jump of at most
 * sigmoid((0.01 - solidAlpha) / alphaSoftness) per pixel), a neighbour alpha of 0.01 (its
 * depth divides by max(alpha, 0.01)), pixel centres (bilinear sampling has kinks there) and
 * pair weight sums of 1 (errors divide by max(N, 1)). Elsewhere the gradient is exact; the
 * finite-difference tests use points away from these.
 * A view's score depends on its neighbours' images too, so `grads` is d(sum of scores)/d(images)
 * and the ensemble calls `weightedGradient` with the weight of each view's score instead (exact
 * for every aggregate: mean, min, softmin, sphere-smooth).
 * Scalar algebra (pair sums to scores): consistency-combine.ts; kernels:
 * shaders/image/consistency_reproject.wgsl and consistency_janus.wgsl.
 */
import type { Gpu } from '../gpu/gpu.ts';
import type { RenderCotangents } from '../render/types.ts';
import type { RewardNeeds, RewardPlugin, RewardScore, RewardViews, ScoreRequest } from './plugin.ts';
import { packCameras, recordRowSums } from './gpu-reduce.ts';
import { validateOptions } from './registry.ts';
import { neighbourPairs, oppositePairs, towardsCamera } from './view-graph.ts';
import { combineConsistency, type Combined } from './consistency-combine.ts';

export const optionsSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    neighbours: { type: 'integer', minimum: 1, default: 2 },
    occlusionTolerance: { type: 'number', exclusiveMinimum: 0, default: 0.05 },
    photometricWeight: { type: 'number', minimum: 0, default: 1 },
    geometricWeight: { type: 'number', minimum: 0, default: 1 },
    janusWeight: { type: 'number', minimum: 0, default: 1 },
    janusMinAngle: { type: 'number', minimum: 90, maximum: 180, default: 135 },
    solidAlpha: { type: 'number', exclusiveMinimum: 0, exclusiveMaximum: 1, default: 0.5 },
    /** Scale of the sigmoid that turns alpha into a surface weight around solidAlpha. */
    alphaSoftness: { type: 'number', exclusiveMinimum: 0, default: 0.05 },
  },
};

interface ConsistencyOptions {
  neighbours: number;
  occlusionTolerance: number;
  photometricWeight: number;
  geometricWeight: number;
  janusWeight: number;
  janusMinAngle: number;
  solidAlpha: number;
  alphaSoftness: number;
}

const REPROJECT = { file: 'image/consistency_reproject.wgsl' };
const JANUS = { file: 'image/consistency_janus.wgsl' };

/** The GPU inputs both passes bind. */
interface KernelInputs {
  views: RewardViews;
  near: [number, number][];
  opposite: [number, number][];
  reprojectParams: GPUBuffer;
  janusParams: GPUBuffer;
  reprojectIn: GPUBuffer[];
  janusIn: GPUBuffer[];
}

/** Cotangent layout in the kernels' one atomic buffer, in units of V * W * H floats. */
const GRAD_SLICES = { rgb: [0, 3], alpha: [3, 1], depth: [4, 1], normal: [5, 3] } as const;

/** What score() keeps for a later weightedGradient(): the batch and its pair sums. */
interface LastBatch {
  views: RewardViews;
  near: [number, number][];
  opposite: [number, number][];
  sums: Float32Array;
  janusSums: Float32Array;
}

export class ConsistencyReward implements RewardPlugin {
  readonly name = 'consistency';
  readonly differentiable = true;
  /** Normals enter only the Janus term (which surface each view sees and the other cannot). */
  readonly needs: RewardNeeds;
  private last: LastBatch | undefined;
  constructor(private readonly o: ConsistencyOptions) {
    this.needs = { normal: o.janusWeight > 0 };
  }

  async score(views: RewardViews, gpu: Gpu, request: ScoreRequest = {}): Promise<RewardScore> {
    const V = views.views;
    this.last = undefined;
    if (V < 2) return { scores: new Float32Array(V), details: { photometric: 0, geometric: 0, janus: 0 } };
    const near = neighbourPairs(views.cameras, Math.min(this.o.neighbours, V - 1));
    const opposite = oppositePairs(views.cameras, this.o.janusMinAngle);
    const { sums, janusSums } = await this.withInputs(gpu, views, near, opposite, (inputs, temps) => this.forward(gpu, inputs, temps));
    this.last = { views, near, opposite, sums, janusSums };
    const c = combineConsistency(V, near, sums, opposite, janusSums, this.weights());
    const grads = request.gradients === false ? undefined : await this.weightedGradient(new Float32Array(V).fill(1), gpu);
    return { scores: Float32Array.from(c.scores), ...(grads ? { grads } : {}), details: c.details };
  }

  /** d(sum_v weights[v] * score_v)/d(images) of the last scored batch. */
  async weightedGradient(weights: Float32Array, gpu: Gpu): Promise<RenderCotangents> {
    const last = this.last;
    if (!last) throw new Error('consistency: weightedGradient() needs a score() of at least two views first.');
    const { views, near, opposite } = last;
    const c = combineConsistency(views.views, near, last.sums, opposite, last.janusSums, this.weights(), weights);
    return await this.withInputs(gpu, views, near, opposite, (inputs, temps) => this.backward(gpu, inputs, c, temps));
  }

  private weights() {
    return { photometric: this.o.photometricWeight, geometric: this.o.geometricWeight, janus: this.o.janusWeight };
  }

  /** Uploads the pair lists, cameras and kernel parameters, runs `body`, frees them. */
  private async withInputs<T>(gpu: Gpu, views: RewardViews, near: [number, number][], opposite: [number, number][], body: (inputs: KernelInputs, temps: GPUBuffer[]) => Promise<T>): Promise<T> {
    const { width: W, height: H } = views;
    const per = W * H;
    const temps: GPUBuffer[] = [];
    const keep = <B extends GPUBuffer>(b: B) => (temps.push(b), b);
    try {
      const nearBuf = keep(gpu.upload('consistency.pairs', Uint32Array.from(near.flat())));
      const oppBuf = keep(gpu.upload('consistency.opposite', Uint32Array.from(opposite.length ? opposite.flat() : [0, 0])));
      const cams = keep(gpu.upload('consistency.cams', packCameras(views.cameras)));
      const dirs = keep(gpu.upload('consistency.dirs', Float32Array.from(views.cameras.flatMap((c) => [...towardsCamera(c), 0]))));
      return await body(
        {
          views,
          near,
          opposite,
          reprojectParams: this.params(gpu, W, H, near.length, near.length * per, views.views, keep, true),
          janusParams: this.params(gpu, W, H, opposite.length, opposite.length * per, views.views, keep, false),
          reprojectIn: [nearBuf, cams, views.rgb, views.alpha, views.depth],
          janusIn: [oppBuf, views.rgb, views.alpha, views.normal, dirs],
        },
        temps,
      );
    } finally {
      for (const b of temps) b.destroy();
    }
  }

  /** Per-pair sums, read back for the scalar algebra. */
  private async forward(gpu: Gpu, x: KernelInputs, temps: GPUBuffer[]): Promise<{ sums: Float32Array; janusSums: Float32Array }> {
    const per = x.views.width * x.views.height;
    const keep = <B extends GPUBuffer>(b: B) => (temps.push(b), b);
    const encoder = gpu.device.createCommandEncoder({ label: 'consistency reward' });
    const records = keep(gpu.buffer('consistency.records', x.near.length * per * 16));
    const fwd = await gpu.kernel({ ...REPROJECT, entry: 'reproject_fwd', defines: { REPROJECT_FWD: true } });
    gpu.dispatch(encoder, fwd, [x.reprojectParams, ...x.reprojectIn, records], Math.ceil((x.near.length * per) / 256));
    const sums = await recordRowSums(gpu, encoder, records, per, x.near.length, 'consistency', temps);
    const janusSums = keep(gpu.buffer('consistency.janus', x.opposite.length * 64));
    if (x.opposite.length) {
      const jf = await gpu.kernel({ ...JANUS, entry: 'janus_fwd', defines: { JANUS_FWD: true } });
      gpu.dispatch(encoder, jf, [x.janusParams, ...x.janusIn, janusSums], x.opposite.length);
    }
    await gpu.submit('consistency reward', encoder);
    return {
      sums: await gpu.readF32(sums, x.near.length * 4),
      janusSums: x.opposite.length ? await gpu.readF32(janusSums, x.opposite.length * 16) : new Float32Array(0),
    };
  }

  /** Spreads the sums' cotangents over the pixels, then splits the atomic buffer per image. */
  private async backward(gpu: Gpu, x: KernelInputs, c: Combined, temps: GPUBuffer[]): Promise<RenderCotangents> {
    const V = x.views.views;
    const per = x.views.width * x.views.height;
    const keep = <B extends GPUBuffer>(b: B) => (temps.push(b), b);
    const encoder = gpu.device.createCommandEncoder({ label: 'consistency reward grads' });
    const all = keep(gpu.buffer('consistency.grads', V * per * 8 * 4));
    const bwd = await gpu.kernel({ ...REPROJECT, entry: 'reproject_bwd' });
    const coefs = keep(gpu.upload('consistency.coefs', Float32Array.from(c.reprojectCoefs)));
    gpu.dispatch(encoder, bwd, [x.reprojectParams, ...x.reprojectIn, coefs, all], Math.ceil((x.near.length * per) / 256));
    if (x.opposite.length) {
      const jb = await gpu.kernel({ ...JANUS, entry: 'janus_bwd' });
      const jcoefs = keep(gpu.upload('consistency.janus.coefs', Float32Array.from(c.janusCoefs)));
      gpu.dispatch(encoder, jb, [x.janusParams, ...x.janusIn, jcoefs, all], Math.ceil((x.opposite.length * per) / 256));
    }
    const grads: RenderCotangents = {};
    for (const [k, [at, n]] of Object.entries(GRAD_SLICES) as [keyof typeof GRAD_SLICES, readonly [number, number]][]) {
      const out = gpu.buffer(`consistency.d${k}`, V * per * n * 4);
      encoder.copyBufferToBuffer(all, V * per * at * 4, out, 0, V * per * n * 4);
      grads[k] = out;
    }
    await gpu.submit('consistency reward grads', encoder);
    return grads;
  }

  private params(gpu: Gpu, W: number, H: number, pairs: number, total: number, views: number, keep: (b: GPUBuffer) => GPUBuffer, reproject: boolean): GPUBuffer {
    // Matches `Params` of consistency_reproject.wgsl and consistency_janus.wgsl.
    const b = new ArrayBuffer(32);
    new Uint32Array(b, 0, 4).set([W, H, pairs, total]);
    if (reproject) {
      new Float32Array(b, 16, 3).set([this.o.occlusionTolerance, this.o.solidAlpha, this.o.alphaSoftness]);
      new Uint32Array(b, 28, 1)[0] = views;
    } else {
      new Float32Array(b, 16, 2).set([this.o.solidAlpha, this.o.alphaSoftness]);
      new Uint32Array(b, 24, 1)[0] = views;
    }
    return keep(gpu.uniform(reproject ? 'consistency.params' : 'consistency.janus.params', new Uint8Array(b)));
  }
}

export default function createConsistencyReward(options: Record<string, unknown>): RewardPlugin {
  return new ConsistencyReward(validateOptions('consistency', optionsSchema, options) as unknown as ConsistencyOptions);
}
