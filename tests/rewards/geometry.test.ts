import { describe, expect, it } from 'vitest';
import { useGpu } from '../helpers/gpu.ts';
import { expectClose, expectGradClose } from '../helpers/compare.ts';
import createGeometryReward from '../../src/rewards/geometry.ts';
import { geometryImageRef, splatPlausibilityRef } from '../../src/reference/rewards/geometry.ts';
import { uploadViews, type CpuViews } from '../../src/reference/rewards/analytic-scenes.ts';
import { splatGroups, type RewardViews } from '../../src/rewards/plugin.ts';
import { cube, floaters, render, ringCameras, rng, soften } from './helpers/scenes.ts';
import { fdAt, pick, sampleCoords } from './helpers/fd.ts';
import { SplatRenderer } from '../../src/render/splat/splat-renderer.ts';
import { GaussianCloud, GaussianGrads } from '../../src/scene/gaussian-cloud.ts';
import { randomGaussiansInSphere } from '../../src/scene/gaussian-init.ts';
import type { GaussianData } from '../../src/scene/gaussian-data.ts';
import { orbitCamera, type Camera } from '../../src/math/camera.ts';
import type { RenderOptions } from '../../src/render/types.ts';

const gpu = useGpu();
const W = { entropy: 1, normal: 1 };

function asViews(v: CpuViews, extra: Partial<RewardViews> = {}): RewardViews {
  return { ...uploadViews(gpu(), v), times: v.cameras.map(() => 0), prompt: '', ...extra };
}

describe('geometry reward', () => {
  const soft = soften(render([cube()], ringCameras(2, 20)), 3);

  it('matches the TypeScript reference (scores and image gradients)', async () => {
    const plugin = createGeometryReward({ anisotropyWeight: 0, floaterWeight: 0 });
    const r = await plugin.score(asViews(soft), gpu());
    const ref = geometryImageRef(soft, W);
    expectClose(r.scores, ref.scores, 1e-4, 'scores');
    expect(ref.count[0]).toBeGreaterThan(20);
    for (const k of ['alpha', 'depth', 'normal'] as const) {
      const g = await gpu().readF32(r.grads![k]!);
      expectGradClose(g, ref.grads[k], `d/d${k}`);
    }
  });

  it('reference gradient matches central finite differences of the score', () => {
    const ref = geometryImageRef(soft, W);
    for (const k of ['alpha', 'depth', 'normal'] as const) {
      const coords = sampleCoords(ref.grads[k], 40, k.length);
      const arr = soft[k];
      const fd = fdAt(arr, () => geometryImageRef(soft, W).scores.reduce((a, b) => a + b, 0), coords, 1e-4);
      expectGradClose(pick(ref.grads[k], coords), fd, `fd d/d${k}`, 2e-2, 0.999);
    }
  });

  it('scores a clean object higher than the same object with floaters', async () => {
    const cams = ringCameras(3, 48);
    const plugin = createGeometryReward({});
    const clean = await plugin.score(asViews(render([cube()], cams)), gpu());
    const dirty = await plugin.score(asViews(render([cube(), ...floaters()], cams)), gpu());
    const mean = (a: Float32Array) => a.reduce((s, x) => s + x, 0) / a.length;
    expect(mean(clean.scores)).toBeGreaterThan(mean(dirty.scores) + 0.01);
    expect(clean.details!.entropy).toBeLessThan(dirty.details!.entropy);
  });

  it('measures splat floaters against the visual hull and needle-shaped splats, as the reference does', async () => {
    const cams = ringCameras(4, 32);
    const v = render([cube()], cams);
    const n = 300;
    const r = rng(11);
    const means = new Float32Array(n * 3);
    const logScales = new Float32Array(n * 3);
    const logits = new Float32Array(n);
    const outside = new Set<number>();
    for (let i = 0; i < n; i++) {
      const far = i % 5 === 0;
      if (far) outside.add(i);
      for (let c = 0; c < 3; c++) means[i * 3 + c] = far ? (r() < 0.5 ? -1 : 1) * (0.9 + 0.3 * r()) : (r() - 0.5) * 0.9;
      for (let c = 0; c < 3; c++) logScales[i * 3 + c] = Math.log(0.02 + 0.05 * r()) + (i % 7 === 0 && c === 0 ? 3 : 0);
      logits[i] = 2 * r() - 0.5;
    }
    const splats = { count: n, means: gpu().upload('m', means), logScales: gpu().upload('s', logScales), opacityLogits: gpu().upload('o', logits) };
    const plugin = createGeometryReward({ entropyWeight: 0, normalWeight: 0 });
    const got = await plugin.score(asViews(v, { splats }), gpu());
    const ref = splatPlausibilityRef({ means, logScales, opacityLogits: logits }, v, 7.5, 0.5);
    expect(Math.abs(got.details!.floaters - ref.floaters)).toBeLessThan(1e-4);
    expect(Math.abs(got.details!.anisotropy - ref.anisotropy)).toBeLessThan(1e-3 * Math.max(1, ref.anisotropy));
    // About a fifth of the opacity lies outside the cube; the hull test must see it.
    expect(ref.floaters).toBeGreaterThan(0.1);
    expect(ref.floaters).toBeLessThan(0.35);
    expect(ref.anisotropy).toBeGreaterThan(0);
    // With no image terms, every view's score is the splat penalty.
    expect(got.scores[0]).toBeCloseTo(-(0.1 * ref.anisotropy + ref.floaters), 3);
  });

  it('judges each group of a batch with one splat set per group against that group\'s views alone', async () => {
    // Two "candidates": a large cube and a small one, from different cameras, with different
    // splats (a shell at radius 0.5 is inside the large cube's hull and outside the small one's).
    const randomSplats = (seed: number, n: number, radius: number) => {
      const r = rng(seed);
      const means = new Float32Array(n * 3);
      for (let i = 0; i < n * 3; i++) means[i] = (r() - 0.5) * 2 * radius;
      const logScales = Float32Array.from({ length: n * 3 }, (_, i) => Math.log(0.02 + 0.05 * r()) + (i % 21 === 0 ? 3 : 0));
      const logits = Float32Array.from({ length: n }, () => 2 * r() - 0.5);
      return { count: n, means: gpu().upload('m', means), logScales: gpu().upload('s', logScales), opacityLogits: gpu().upload('o', logits) };
    };
    const a = render([cube(undefined, 0.55)], ringCameras(3, 24));
    const b = render([cube(undefined, 0.3)], ringCameras(3, 24, 25, 3.2, 40));
    const sa = randomSplats(5, 200, 0.5);
    const sb = randomSplats(6, 150, 0.5);
    const both: CpuViews = {
      views: 6,
      width: 24,
      height: 24,
      cameras: [...a.cameras, ...b.cameras],
      rgb: Float32Array.of(...a.rgb, ...b.rgb),
      alpha: Float32Array.of(...a.alpha, ...b.alpha),
      depth: Float32Array.of(...a.depth, ...b.depth),
      normal: Float32Array.of(...a.normal, ...b.normal),
    };
    const plugin = createGeometryReward({});
    const batch = await plugin.score(asViews(both, { splats: [sa, sb] }), gpu());
    const alone = [await plugin.score(asViews(a, { splats: sa }), gpu()), await plugin.score(asViews(b, { splats: sb }), gpu())];
    expectClose(batch.scores, Float32Array.of(...alone[0].scores, ...alone[1].scores), 1e-5, 'per-group scores');
    expect(batch.details!.floaters).toBeCloseTo((alone[0].details!.floaters + alone[1].details!.floaters) / 2, 5);
    // The groups' floaters differ, so a hull shared across groups would change the scores.
    expect(alone[1].details!.floaters).toBeGreaterThan(alone[0].details!.floaters + 0.2);
    // One set for all six views is the old single form: its hull is the intersection of both groups'.
    const single = await plugin.score(asViews(both, { splats: sa }), gpu());
    expect(single.details!.floaters).toBeGreaterThan(alone[0].details!.floaters + 0.1);
    expect(() => splatGroups({ views: 6, splats: [sa, sb, sa, sb] })).toThrow(/equal groups/);
  });

  // Sixteen overlapping splats on a 4x4 grid facing the cameras (which look along world z);
  // `spread` moves them along z, i.e. along the rays.
  function layered(spread: number): GaussianData {
    const d = randomGaussiansInSphere({ count: 16, radius: 0.5, shDegree: 0, seed: 3, opacity: 0.5, scale: 0.15 });
    for (let i = 0; i < 16; i++) {
      d.means.set([((i % 4) - 1.5) * 0.2, (Math.floor(i / 4) - 1.5) * 0.2, spread * (((i * 7) % 16) / 15 - 0.5)], i * 3);
      d.logScales.set([Math.log(0.15), Math.log(0.15), Math.log(0.15)], i * 3);
      d.quats.set([1, 0, 0, 0], i * 4);
    }
    return d;
  }
  const zCams = (size: number): Camera[] => [0, 180].map((azimuth) => orbitCamera({ elevation: 0, azimuth, radius: 3, width: size, height: size + 1, fovY: 40 }));
  const distortionOnly = (w: number) => createGeometryReward({ entropyWeight: 0, normalWeight: 0, anisotropyWeight: 0, floaterWeight: 0, distortionWeight: w });

  async function renderAndScore(renderer: SplatRenderer, data: GaussianData, cams: Camera[], o: RenderOptions, w: number, grads?: GaussianGrads) {
    const cloud = GaussianCloud.fromData(gpu(), data);
    const frame = await renderer.forward(cloud, cams, { ...o, distortion: true });
    try {
      const r = await distortionOnly(w).score({ ...frame, distortion: frame.distortion, times: cams.map(() => 0), prompt: '' }, gpu());
      if (grads) await renderer.backward(frame, { distortion: r.grads!.distortion }, grads);
      for (const k of ['alpha', 'depth', 'normal', 'distortion'] as const) r.grads?.[k]?.destroy();
      return r;
    } finally {
      frame.destroy();
      cloud.destroy();
    }
  }

  it('declares that it needs the distortion image only when its weight is on', () => {
    expect(createGeometryReward({}).needs?.distortion).toBe(false);
    expect(distortionOnly(100).needs?.distortion).toBe(true);
  });

  it('scores splats spread in depth along the rays worse than the same splats on one surface', async () => {
    const renderer = await SplatRenderer.create(gpu());
    const spread = await renderAndScore(renderer, layered(0.8), zCams(32), {}, 100);
    const flat = await renderAndScore(renderer, layered(0), zCams(32), {}, 100);
    renderer.destroy();
    expect(flat.details!.distortion).toBeLessThan(1e-9);
    expect(spread.details!.distortion).toBeGreaterThan(1e-6);
    for (let v = 0; v < 2; v++) {
      expect(spread.scores[v]).toBeLessThan(flat.scores[v]);
      expect(spread.scores[v]).toBeCloseTo(-100 * spread.details!.distortion, 2);
    }
  });

  it('its distortion gradient through the renderer matches finite differences of its score', async () => {
    const renderer = await SplatRenderer.create(gpu());
    const data = layered(0.8);
    const cams = zCams(31);
    const o: RenderOptions = { distortionRange: [1, 10] };
    const w = 10;
    const grads = GaussianGrads.create(gpu(), data.count, data.shDegree);
    await renderAndScore(renderer, data, cams, o, w, grads);
    const total = async () => (await renderAndScore(renderer, data, cams, o, w)).scores.reduce((a, b) => a + b, 0);
    for (const [field, eps] of [['means', 2e-3], ['opacityLogits', 2e-3]] as const) {
      const analytic = await gpu().readF32(grads[field], data[field].length);
      const coords = Array.from({ length: data[field].length }, (_, i) => i);
      const fd = new Float64Array(coords.length);
      for (const i of coords) {
        const x = data[field][i];
        data[field][i] = x + eps;
        const fp = await total();
        data[field][i] = x - eps;
        const fm = await total();
        data[field][i] = x;
        fd[i] = (fp - fm) / (2 * eps);
      }
      expect(Math.max(...Array.from(fd, Math.abs)), `${field}: not trivially zero`).toBeGreaterThan(3e-5);
      expectGradClose(analytic, fd, `d score / d ${field} (finite differences)`, 5e-2, 0.995);
    }
    grads.destroy();
    renderer.destroy();
  });

  it('its image gradient w.r.t. the distortion image matches finite differences', async () => {
    const views = asViews(soft);
    const P = soft.width * soft.height * soft.cameras.length;
    const dist = new Float32Array(P).map((_, i) => 0.01 * ((i * 37) % 11));
    const plugin = createGeometryReward({ distortionWeight: 3 });
    const score = async (d: Float32Array) => {
      const buf = gpu().upload('distortion', d);
      const r = await plugin.score({ ...views, distortion: buf }, gpu());
      buf.destroy();
      return r;
    };
    const r = await score(dist);
    const g = await gpu().readF32(r.grads!.distortion!);
    const coords = sampleCoords(g, 20);
    const values: number[] = [];
    for (const i of coords) {
      const keep = dist[i];
      dist[i] = keep + 0.05;
      const sp = (await score(dist)).scores.reduce((a, b) => a + b, 0);
      dist[i] = keep - 0.05;
      const sm = (await score(dist)).scores.reduce((a, b) => a + b, 0);
      dist[i] = keep;
      values.push((sp - sm) / 0.1);
    }
    expectGradClose(pick(g, coords), values, 'fd d/ddistortion', 1e-2, 0.999);
    expect(g[0]).toBeCloseTo(-3 / (soft.width * soft.height), 6);
  });

  it('refuses a distortion weight when the views carry no distortion image, and a negative one, naming the option', async () => {
    await expect(distortionOnly(1).score(asViews(soft), gpu())).rejects.toThrow(/geometry: distortionWeight is 1 .*distortion: true/);
    expect(() => createGeometryReward({ distortionWeight: -1 })).toThrow(/distortionWeight/);
  });
});
