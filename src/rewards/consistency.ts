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
 * A view's score depends on its neighbours' images too, so `grads` is d(sum of scores)/d(images);
 * the ensemble weights it by the weight of the pixel's view, which is exact when the aggregate
 * weighs all views equally (`mean`) and an approximation otherwise.
 * Scalar algebra (pair sums to scores): consistency-combine.ts; kernels:
 * shaders/image/consistency_reproject.wgsl and consistency_janus.wgsl.
 */
import type { Gpu } from '../gpu/gpu.ts';
import type { RewardPlugin, RewardScore, RewardViews } from './plugin.ts';
import { packCameras, recordRowSums } from './gpu-reduce.ts';
import { validateOptions } from './registry.ts';
import { neighbourPairs, oppositePairs, towardsCamera } from './view-graph.ts';
import { combineConsistency } from './consistency-combine.ts';

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

/** Cotangent layout in the kernels' one atomic buffer, in units of V * W * H floats. */
const GRAD_SLICES = { rgb: [0, 3], alpha: [3, 1], depth: [4, 1], normal: [5, 3] } as const;

export class ConsistencyReward implements RewardPlugin {
  readonly name = 'consistency';
  readonly differentiable = true;
  constructor(private readonly o: ConsistencyOptions) {}

  async score(views: RewardViews, gpu: Gpu): Promise<RewardScore> {
    const { views: V, width: W, height: H } = views;
    const per = W * H;
    if (V < 2) return { scores: new Float32Array(V), details: { photometric: 0, geometric: 0, janus: 0 } };
    const near = neighbourPairs(views.cameras, Math.min(this.o.neighbours, V - 1));
    const opposite = oppositePairs(views.cameras, this.o.janusMinAngle);
    const temps: GPUBuffer[] = [];
    const keep = <T extends GPUBuffer>(b: T) => (temps.push(b), b);
    try {
      const reprojectParams = this.params(gpu, W, H, near.length, near.length * per, V, keep, true);
      const janusParams = this.params(gpu, W, H, opposite.length, opposite.length * per, V, keep, false);
      const nearBuf = keep(gpu.upload('consistency.pairs', Uint32Array.from(near.flat())));
      const oppBuf = keep(gpu.upload('consistency.opposite', Uint32Array.from(opposite.length ? opposite.flat() : [0, 0])));
      const cams = keep(gpu.upload('consistency.cams', packCameras(views.cameras)));
      const dirs = keep(gpu.upload('consistency.dirs', Float32Array.from(views.cameras.flatMap((c) => [...towardsCamera(c), 0]))));
      const reproject = { file: 'image/consistency_reproject.wgsl' };
      const janus = { file: 'image/consistency_janus.wgsl' };
      const reprojectIn = [nearBuf, cams, views.rgb, views.alpha, views.depth];
      const janusIn = [oppBuf, views.rgb, views.alpha, views.normal, dirs];

      // Forward: per-pair sums, read back for the scalar algebra.
      let encoder = gpu.device.createCommandEncoder({ label: 'consistency reward' });
      const records = keep(gpu.buffer('consistency.records', near.length * per * 16));
      const fwd = await gpu.kernel({ ...reproject, entry: 'reproject_fwd', defines: { REPROJECT_FWD: true } });
      gpu.dispatch(encoder, fwd, [reprojectParams, ...reprojectIn, records], Math.ceil((near.length * per) / 256));
      const sums = await recordRowSums(gpu, encoder, records, per, near.length, 'consistency', temps);
      const janusSums = keep(gpu.buffer('consistency.janus', opposite.length * 64));
      if (opposite.length) {
        const jf = await gpu.kernel({ ...janus, entry: 'janus_fwd', defines: { JANUS_FWD: true } });
        gpu.dispatch(encoder, jf, [janusParams, ...janusIn, janusSums], opposite.length);
      }
      await gpu.submit('consistency reward', encoder);
      const s = await gpu.readF32(sums, near.length * 4);
      const js = opposite.length ? await gpu.readF32(janusSums, opposite.length * 16) : new Float32Array(0);
      const c = combineConsistency(V, near, s, opposite, js, {
        photometric: this.o.photometricWeight,
        geometric: this.o.geometricWeight,
        janus: this.o.janusWeight,
      });

      // Backward: spread d total / d(sums) over the pixels, then split the atomic buffer.
      encoder = gpu.device.createCommandEncoder({ label: 'consistency reward grads' });
      const all = keep(gpu.buffer('consistency.grads', V * per * 8 * 4));
      const bwd = await gpu.kernel({ ...reproject, entry: 'reproject_bwd' });
      const coefs = keep(gpu.upload('consistency.coefs', Float32Array.from(c.reprojectCoefs)));
      gpu.dispatch(encoder, bwd, [reprojectParams, ...reprojectIn, coefs, all], Math.ceil((near.length * per) / 256));
      if (opposite.length) {
        const jb = await gpu.kernel({ ...janus, entry: 'janus_bwd' });
        const jcoefs = keep(gpu.upload('consistency.janus.coefs', Float32Array.from(c.janusCoefs)));
        gpu.dispatch(encoder, jb, [janusParams, ...janusIn, jcoefs, all], Math.ceil((opposite.length * per) / 256));
      }
      const grads: NonNullable<RewardScore['grads']> = {};
      for (const [k, [at, n]] of Object.entries(GRAD_SLICES) as [keyof typeof GRAD_SLICES, readonly [number, number]][]) {
        const out = gpu.buffer(`consistency.d${k}`, V * per * n * 4);
        encoder.copyBufferToBuffer(all, V * per * at * 4, out, 0, V * per * n * 4);
        grads[k] = out;
      }
      await gpu.submit('consistency reward grads', encoder);
      return { scores: Float32Array.from(c.scores), grads, details: c.details };
    } finally {
      for (const b of temps) b.destroy();
    }
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
