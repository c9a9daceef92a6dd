/**
 * `consistency`: agreement between the views of one batch, higher is better.
 *   score_i = -( wPhoto * L1 colour error of i's surface reprojected into its neighbours
 *              + wGeo   * relative depth error there (background where i sees surface = 1)
 *              + wJanus * max(0, NCC) of i's appearance with roughly opposite views )
 * Points hidden behind a neighbour's surface (occlusion test with tolerance tau) are skipped.
 * The Janus term compares the surfaces each view sees and the other cannot, as is and
 * mirrored: grey-level correlation damped by the chromaticity difference (a real object's
 * back does not repeat its front's pattern and colours). Not differentiable
 * (nearest-pixel lookups and masks); use it with ranking algorithms or as a monitor.
 */
import type { Gpu } from '../gpu/gpu.ts';
import type { RewardPlugin, RewardScore, RewardViews } from './plugin.ts';
import { packCameras, recordRowSums } from './gpu-reduce.ts';
import { validateOptions } from './registry.ts';
import { neighbourPairs, oppositePairs, towardsCamera } from './view-graph.ts';
import { janusSimilarity } from '../reference/rewards/consistency.ts';

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
}

export class ConsistencyReward implements RewardPlugin {
  readonly name = 'consistency';
  readonly differentiable = false;
  constructor(private readonly o: ConsistencyOptions) {}

  async score(views: RewardViews, gpu: Gpu): Promise<RewardScore> {
    const { views: V, width: W, height: H } = views;
    const per = W * H;
    const scores = new Float32Array(V);
    if (V < 2) return { scores, details: { photometric: 0, geometric: 0, janus: 0 } };
    const near = neighbourPairs(views.cameras, Math.min(this.o.neighbours, V - 1));
    const opposite = oppositePairs(views.cameras, this.o.janusMinAngle);
    const temps: GPUBuffer[] = [];
    const params = (pairs: number, total: number) => {
      const b = new ArrayBuffer(32);
      new Uint32Array(b, 0, 4).set([W, H, pairs, total]);
      new Float32Array(b, 16, 2).set([this.o.occlusionTolerance, this.o.solidAlpha]);
      const u = gpu.uniform('consistency.params', new Uint8Array(b));
      temps.push(u);
      return u;
    };
    const upPairs = (p: [number, number][]) => {
      const b = gpu.upload('consistency.pairs', Uint32Array.from(p.flat()));
      temps.push(b);
      return b;
    };
    const cams = gpu.upload('consistency.cams', packCameras(views.cameras));
    const records = gpu.buffer('consistency.records', near.length * per * 16);
    temps.push(cams, records);
    const reproject = await gpu.kernel({ file: 'image/consistency.wgsl', entry: 'reproject', defines: { REPROJECT: true } });
    const encoder = gpu.device.createCommandEncoder({ label: 'consistency reward' });
    gpu.dispatch(encoder, reproject, [params(near.length, near.length * per), upPairs(near), views.rgb, views.alpha, cams, views.depth, records], Math.ceil((near.length * per) / 256));
    const sums = await recordRowSums(gpu, encoder, records, per, near.length, 'consistency', temps);
    let janusSums: GPUBuffer | undefined;
    if (opposite.length) {
      const janus = await gpu.kernel({ file: 'image/consistency.wgsl', entry: 'janus', defines: { JANUS: true } });
      janusSums = gpu.buffer('consistency.janus', opposite.length * 64);
      const dirs = gpu.upload('consistency.dirs', Float32Array.from(views.cameras.flatMap((c) => [...towardsCamera(c), 0])));
      temps.push(janusSums, dirs);
      gpu.dispatch(encoder, janus, [params(opposite.length, 0), upPairs(opposite), views.rgb, views.alpha, views.normal, dirs, janusSums], opposite.length);
    }
    await gpu.submit('consistency reward', encoder);
    const s = await gpu.readF32(sums, near.length * 4);
    const js = janusSums ? await gpu.readF32(janusSums, opposite.length * 16) : new Float32Array(0);
    for (const b of temps) b.destroy();

    const photo = new Float64Array(V);
    const geo = new Float64Array(V);
    const pairsOf = new Float64Array(V);
    near.forEach(([i], k) => {
      photo[i] += s[k * 4] / Math.max(s[k * 4 + 1], 1);
      geo[i] += s[k * 4 + 2] / Math.max(s[k * 4 + 3], 1);
      pairsOf[i] += 1;
    });
    const janus = new Float64Array(V);
    opposite.forEach(([i], k) => {
      const sim = Math.max(janusSimilarity(js, k * 16), janusSimilarity(js, k * 16 + 8));
      janus[i] = Math.max(janus[i], sim);
    });
    let mp = 0, mg = 0, mj = 0;
    for (let v = 0; v < V; v++) {
      const p = photo[v] / Math.max(pairsOf[v], 1);
      const g = geo[v] / Math.max(pairsOf[v], 1);
      scores[v] = -(this.o.photometricWeight * p + this.o.geometricWeight * g + this.o.janusWeight * janus[v]);
      mp += p / V;
      mg += g / V;
      mj += janus[v] / V;
    }
    return { scores, details: { photometric: mp, geometric: mg, janus: mj } };
  }
}

export default function createConsistencyReward(options: Record<string, unknown>): RewardPlugin {
  return new ConsistencyReward(validateOptions('consistency', optionsSchema, options) as unknown as ConsistencyOptions);
}
