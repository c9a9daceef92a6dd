/**
 * `geometry`: plausibility of the rendered geometry, higher is better.
 *   score_v = -( wEntropy * mean opacity entropy          (opacity binarisation)
 *              + wNormal  * mean (O - N . n~) on solid px  (depth-normal consistency)
 *              + wAnisotropy * splat needle penalty        (from splats, when given)
 *              + wFloaters   * splat opacity outside the visual hull of the views
 *              + wDistortion * mean per-pixel depth distortion )  (2DGS, off by default)
 * The splat terms take the hull from the views the splats made: all of them for one set, or
 * each group's own views when the views carry one set per candidate (RewardViews.splats), so
 * a candidate's floaters penalise only that candidate's views.
 * Differentiable in alpha, depth, normal and distortion (the splat terms do not depend on the
 * images' values except through the hull mask, which is piecewise constant).
 * Depth distortion L = sum_{i<j} w_i w_j (m_i - m_j)^2 comes from the splat renderer
 * (RenderOutput.distortion, src/render/splat/distortion.ts); with distortionWeight > 0 the
 * reward declares `needs.distortion`, the trainer renders with it, and d(score)/dL flows back
 * as the `distortion` cotangent. L <= 1/4 per pixel, and at object scale (camera 2-4 units
 * away, the default 2DGS depth range) a layered surface gives ~1e-4, so useful weights are
 * ~100 to 1000. NeRF renders have no distortion: the trainer refuses the weight for them.
 */
import type { Gpu } from '../gpu/gpu.ts';
import { InputError } from '../errors.ts';
import { splatGroups, type RewardNeeds, type RewardPlugin, type RewardScore, type RewardViews } from './plugin.ts';
import { packCameras, recordRowSums } from './gpu-reduce.ts';
import { validateOptions } from './registry.ts';

export const optionsSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    entropyWeight: { type: 'number', minimum: 0, default: 1 },
    normalWeight: { type: 'number', minimum: 0, default: 1 },
    anisotropyWeight: { type: 'number', minimum: 0, default: 0.1 },
    floaterWeight: { type: 'number', minimum: 0, default: 1 },
    /** Weight of the mean per-pixel depth distortion; > 0 makes the trainer render it (splats only). */
    distortionWeight: { type: 'number', minimum: 0, default: 0 },
    /** Scale ratio below which a splat is not penalised (STAG4D uses 7.5). */
    anisotropyRatio: { type: 'number', minimum: 1, default: 7.5 },
    /** Alpha below which a pixel counts as background for the visual hull. */
    hullAlpha: { type: 'number', exclusiveMinimum: 0, exclusiveMaximum: 1, default: 0.5 },
  },
};

export interface GeometryOptions {
  entropyWeight: number;
  normalWeight: number;
  anisotropyWeight: number;
  floaterWeight: number;
  distortionWeight: number;
  anisotropyRatio: number;
  hullAlpha: number;
}

export class GeometryReward implements RewardPlugin {
  readonly name = 'geometry';
  readonly differentiable = true;
  readonly needs: RewardNeeds;
  constructor(private readonly o: GeometryOptions) {
    // Normals enter only the depth-normal term (the solid mask and the other terms do not read them).
    this.needs = { distortion: o.distortionWeight > 0, normal: o.normalWeight > 0 };
  }

  async score(views: RewardViews, gpu: Gpu): Promise<RewardScore> {
    const { views: V, width: W, height: H } = views;
    const P = W * H;
    const total = V * P;
    const temps: GPUBuffer[] = [];
    const wDist = this.o.distortionWeight;
    if (wDist > 0 && !views.distortion)
      throw new InputError(
        `geometry: distortionWeight is ${wDist} but the views carry no distortion image; render splats with { distortion: true } (the trainer does when a reward needs it), or set distortionWeight to 0 for representations that cannot (NeRF).`,
      );
    const params = new ArrayBuffer(32);
    new Uint32Array(params, 0, 4).set([W, H, V, total]);
    new Float32Array(params, 16, 3).set([this.o.entropyWeight, this.o.normalWeight, wDist]);
    new Uint32Array(params, 28, 1)[0] = wDist > 0 ? 1 : 0;
    const paramBuf = gpu.uniform('geometry.params', new Uint8Array(params));
    const cams = gpu.upload('geometry.cams', packCameras(views.cameras));
    const scratch = gpu.buffer('geometry.scratch', total * 16);
    const gz = gpu.buffer('geometry.gz', total * 16);
    const dAlpha = gpu.buffer('geometry.dalpha', total * 4);
    const dDepth = gpu.buffer('geometry.ddepth', total * 4);
    const dNormal = gpu.buffer('geometry.dnormal', total * 12);
    temps.push(paramBuf, cams, scratch, gz);
    const distortion = wDist > 0 ? views.distortion! : gpu.buffer('geometry.no-distortion', 4);
    if (wDist <= 0) temps.push(distortion);
    const dDistortion = wDist > 0 ? gpu.buffer('geometry.ddistortion', total * 4) : undefined;
    const pixel = await gpu.kernel({ file: 'image/geometry.wgsl', entry: 'geometry_pixel', defines: { GEOMETRY_PIXEL: true } });
    const grad = await gpu.kernel({ file: 'image/geometry.wgsl', entry: 'geometry_grad', defines: { GEOMETRY_GRAD: true } });
    const encoder = gpu.device.createCommandEncoder({ label: 'geometry reward' });
    const groups = Math.ceil(total / 256);
    gpu.dispatch(encoder, pixel, [paramBuf, cams, views.alpha, views.depth, views.normal, scratch, gz, dNormal, distortion], groups);
    const sums = await recordRowSums(gpu, encoder, scratch, P, V, 'geometry', temps);
    gpu.dispatch(encoder, grad, [paramBuf, views.alpha, views.depth, scratch, gz, sums, dAlpha, dDepth, dNormal], groups);
    if (dDistortion) {
      const distGrad = await gpu.kernel({ file: 'image/geometry.wgsl', entry: 'geometry_distortion_grad', defines: { GEOMETRY_DISTORTION_GRAD: true } });
      gpu.dispatch(encoder, distGrad, [paramBuf, dDistortion], groups);
    }
    const splatSets = splatGroups(views);
    const splatSums = splatSets.some((g) => g.splats.count > 0) ? await this.recordSplats(gpu, encoder, views, splatSets, cams, temps) : undefined;
    await gpu.submit('geometry reward', encoder);
    const s = await gpu.readF32(sums, V * 4);
    // Each group's splats are judged against its own views and penalise only those views.
    const penalty = new Float32Array(V);
    let anisotropy = 0;
    let floaters = 0;
    if (splatSums) {
      const t = await gpu.readF32(splatSums, splatSets.length * 4);
      splatSets.forEach((g, k) => {
        const a = t[k * 4 + 1] / Math.max(t[k * 4], 1e-12);
        const f = t[k * 4 + 2] / Math.max(t[k * 4], 1e-12);
        penalty.fill(this.o.anisotropyWeight * a + this.o.floaterWeight * f, g.first, g.first + g.views);
        anisotropy += a / splatSets.length;
        floaters += f / splatSets.length;
      });
    }
    for (const b of temps) b.destroy();
    const scores = new Float32Array(V);
    let entropy = 0;
    let normal = 0;
    let meanDistortion = 0;
    for (let v = 0; v < V; v++) {
      const e = s[v * 4] / P;
      const n = s[v * 4 + 1] / Math.max(s[v * 4 + 2], 1);
      const d = s[v * 4 + 3] / P;
      scores[v] = -(this.o.entropyWeight * e + this.o.normalWeight * n + wDist * d) - penalty[v];
      entropy += e / V;
      normal += n / V;
      meanDistortion += d / V;
    }
    const details: Record<string, number> = { entropy, normalInconsistency: normal };
    if (splatSums) Object.assign(details, { anisotropy, floaters });
    if (dDistortion) details.distortion = meanDistortion;
    return { scores, grads: { alpha: dAlpha, depth: dDepth, normal: dNormal, ...(dDistortion ? { distortion: dDistortion } : {}) }, details };
  }

  /**
   * Per-splat records of every group into one buffer, a row as long as the largest set per group (rows of
   * smaller sets keep zeros), summed per row: (sum o, sum o * anisotropy, sum o * floater, 0).
   */
  private async recordSplats(
    gpu: Gpu,
    encoder: GPUCommandEncoder,
    views: RewardViews,
    groups: ReturnType<typeof splatGroups>,
    cams: GPUBuffer,
    temps: GPUBuffer[],
  ): Promise<GPUBuffer> {
    const row = Math.max(1, ...groups.map((g) => g.splats.count));
    const records = gpu.buffer('geometry.splat.records', groups.length * row * 16);
    temps.push(records);
    const k = await gpu.kernel({ file: 'image/splat_plausibility.wgsl', entry: 'splat_plausibility' });
    groups.forEach((g, i) => {
      const sp = g.splats;
      if (sp.count === 0) return;
      const params = new ArrayBuffer(32);
      new Uint32Array(params, 0, 4).set([sp.count, g.views, views.width, views.height]);
      new Float32Array(params, 16, 2).set([this.o.anisotropyRatio, this.o.hullAlpha]);
      new Uint32Array(params, 24, 2).set([g.first, i * row]);
      const paramBuf = gpu.uniform('geometry.splat.params', new Uint8Array(params));
      temps.push(paramBuf);
      gpu.dispatch(encoder, k, [paramBuf, cams, sp.means, sp.logScales, sp.opacityLogits, views.alpha, records], Math.ceil(sp.count / 256));
    });
    return recordRowSums(gpu, encoder, records, row, groups.length, 'geometry.splat', temps);
  }
}

export default function createGeometryReward(options: Record<string, unknown>): RewardPlugin {
  return new GeometryReward(validateOptions('geometry', optionsSchema, options) as unknown as GeometryOptions);
}
