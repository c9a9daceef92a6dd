import { describe, expect, it } from 'vitest';
import { useGpu } from '../helpers/gpu.ts';
import { expectClose, expectGradClose } from '../helpers/compare.ts';
import createConsistencyReward from '../../src/rewards/consistency.ts';
import { janusSimilarity } from '../../src/rewards/consistency-combine.ts';
import { consistencyRef, type ConsistencyRefOptions } from '../../src/reference/rewards/consistency.ts';
import { uploadViews, type CpuViews } from '../../src/reference/rewards/analytic-scenes.ts';
import { orbitCamera } from '../../src/math/camera.ts';
import type { RewardViews } from '../../src/rewards/plugin.ts';
import { cube, faceColours, facedCube, render, ringCameras, rng, soften, sphere } from './helpers/scenes.ts';
import { fdAt, pick, sampleCoords } from './helpers/fd.ts';
import { RewardEnsemble } from '../../src/rewards/ensemble.ts';
import { aggregateViews } from '../../src/rewards/aggregate.ts';

const gpu = useGpu();
const asViews = (v: CpuViews): RewardViews => ({ ...uploadViews(gpu(), v), times: v.cameras.map(() => 0), prompt: '' });
const mean = (a: ArrayLike<number>) => Array.from(a).reduce((s, x) => s + x, 0) / a.length;
const sum = (a: ArrayLike<number>) => Array.from(a).reduce((s, x) => s + x, 0);
const KEYS = ['rgb', 'alpha', 'depth', 'normal'] as const;
const DEFAULTS: ConsistencyRefOptions = { neighbours: 2, tau: 0.05, solid: 0.5, softness: 0.05, photometric: 1, geometric: 1, janus: 1, janusMinAngle: 135 };

/** Replaces view `k` of `a` with view `k` of `b` (another object seen from the same camera). */
function swapView(a: CpuViews, b: CpuViews, k: number): CpuViews {
  const out: CpuViews = { ...a, rgb: a.rgb.slice(), alpha: a.alpha.slice(), depth: a.depth.slice(), normal: a.normal.slice() };
  const P = a.width * a.height;
  out.rgb.set(b.rgb.subarray(k * P * 3, (k + 1) * P * 3), k * P * 3);
  out.alpha.set(b.alpha.subarray(k * P, (k + 1) * P), k * P);
  out.depth.set(b.depth.subarray(k * P, (k + 1) * P), k * P);
  out.normal.set(b.normal.subarray(k * P * 3, (k + 1) * P * 3), k * P * 3);
  return out;
}

/**
 * Six views of odd size (19x15) around a two-faced cube with a ball beside one side (so
 * neighbours occlude each other's points), softened so that every buffer has texture and alpha
 * sits away from the masks' hard cuts.
 */
function smallBatch(): CpuViews {
  const cams = Array.from({ length: 6 }, (_, i) => orbitCamera({ elevation: 8 + 4 * (i % 2), azimuth: 60 * i + 7, radius: 3.2, fovY: 40, width: 19, height: 15 }));
  const ball = { ...sphere([0.3, 0.8, 0.3], 0.28), center: [0.8, 0.2, 0.1] as [number, number, number] };
  return soften(render([facedCube(true), ball], cams), 9);
}

describe('consistency reward', () => {
  const cams = ringCameras(6, 40, 20);
  const cubeViews = render([cube(faceColours)], cams);
  const small = smallBatch();

  it('the small batch exercises every term: occlusion and a live Janus term', () => {
    const ref = consistencyRef(small, DEFAULTS);
    expect(ref.opposite.length).toBeGreaterThan(0);
    expect(ref.details.janus).toBeGreaterThan(0.05);
    // Some reprojected surface points fall behind the neighbour's surface (occlusion weight < 1/2).
    let occluded = 0;
    for (let i = 0; i < ref.records.length; i += 4) if (ref.records[i + 3] > 0.5 && ref.records[i + 1] < 0.25 * ref.records[i + 3]) occluded++;
    expect(occluded).toBeGreaterThan(5);
  });

  it('GPU scores and image gradients match the TypeScript reference', async () => {
    const plugin = createConsistencyReward({});
    const got = await plugin.score(asViews(small), gpu());
    const ref = consistencyRef(small, DEFAULTS);
    expectClose(got.scores, ref.scores, 1e-4, 'scores');
    for (const k of ['photometric', 'geometric', 'janus'] as const) expect(Math.abs(got.details![k] - ref.details[k]), k).toBeLessThan(1e-4);
    for (const k of KEYS) {
      const g = await gpu().readF32(got.grads![k]!);
      expect(ref.grads[k].some((x) => Math.abs(x) > 1e-6), `${k} gradient is not zero`).toBe(true);
      expectGradClose(g, ref.grads[k], `d/d${k}`);
    }
  });

  it('reference gradient matches central finite differences of the score', () => {
    const ref = consistencyRef(small, DEFAULTS);
    for (const k of KEYS) {
      const coords = sampleCoords(ref.grads[k], 30, 3 + k.length);
      const fd = fdAt(small[k], () => sum(consistencyRef(small, DEFAULTS).scores), coords, 1e-4);
      expectGradClose(pick(ref.grads[k], coords), fd, `fd d/d${k}`, 2e-2, 0.999);
    }
  });

  it('Janus similarity gradient matches finite differences of the similarity', () => {
    const r = rng(4);
    const s = [300, 0, 0, 0, 0, 0, 0];
    // Moments of correlated grey values, so the similarity sits well inside its smooth part.
    for (let i = 0; i < 300; i++) {
      const a = r();
      const b = 0.7 * a + 0.3 * r();
      s[1] += a; s[2] += b; s[3] += a * a; s[4] += b * b; s[5] += a * b; s[6] += 0.05 * r();
    }
    const { sim, grad } = janusSimilarity(s);
    expect(sim).toBeGreaterThan(0.3);
    const fd = s.map((_, q) => {
      const h = 1e-6 * Math.max(1, Math.abs(s[q]));
      const up = s.slice(); up[q] += h;
      const dn = s.slice(); dn[q] -= h;
      return (janusSimilarity(up).sim - janusSimilarity(dn).sim) / (2 * h);
    });
    expectGradClose(grad, fd, 'd sim / d sums', 1e-4, 0.99999);
  });

  it('gradient ascent on the images with the reward gradient raises the score', async () => {
    // An inconsistent batch: one view of a cube replaced by a sphere, then softened.
    let v = soften(swapView(render([cube(faceColours)], ringCameras(4, 24, 20)), render([sphere()], ringCameras(4, 24, 20)), 1), 2);
    const plugin = createConsistencyReward({});
    const totals: number[] = [];
    for (let step = 0; step <= 8; step++) {
      const views = asViews(v);
      const r = await plugin.score(views, gpu());
      totals.push(sum(r.scores));
      const next: CpuViews = { ...v, rgb: v.rgb.slice(), alpha: v.alpha.slice(), depth: v.depth.slice(), normal: v.normal.slice() };
      for (const k of KEYS) {
        const g = await gpu().readF32(r.grads![k]!);
        // A step of at most 0.01 per value along the gradient.
        let m = 0;
        for (const x of g) m = Math.max(m, Math.abs(x));
        if (m > 0) for (let i = 0; i < g.length; i++) next[k][i] += (0.01 * g[i]) / m;
        r.grads![k]!.destroy();
      }
      for (const b of [views.rgb, views.alpha, views.depth, views.normal]) b.destroy();
      v = next;
    }
    for (let s = 1; s < totals.length; s++) expect(totals[s], `step ${s}: ${totals.join(', ')}`).toBeGreaterThan(totals[s - 1]);
    expect(totals[totals.length - 1]).toBeGreaterThan(totals[0] + 0.02);
  });

  it('scores consistent views higher than the same set with one view swapped for another object', async () => {
    const plugin = createConsistencyReward({});
    const good = await plugin.score(asViews(cubeViews), gpu());
    const bad = await plugin.score(asViews(swapView(cubeViews, render([sphere()], cams), 2)), gpu());
    expect(mean(good.scores)).toBeGreaterThan(mean(bad.scores) + 0.02);
    // The swapped view scores below every view of the consistent set.
    expect(bad.scores[2]).toBeLessThan(Math.min(...good.scores));
    expect(good.details!.geometric).toBeLessThan(bad.details!.geometric);
  });

  it('penalises the mirrored-face (Janus) scene', async () => {
    const jc = ringCameras(4, 40, 5);
    const plugin = createConsistencyReward({ photometricWeight: 0, geometricWeight: 0 });
    const clean = await plugin.score(asViews(render([facedCube(false)], jc)), gpu());
    const janus = await plugin.score(asViews(render([facedCube(true)], jc)), gpu());
    expect(janus.details!.janus).toBeGreaterThan(0.4);
    expect(janus.details!.janus).toBeGreaterThan(clean.details!.janus + 0.3);
    expect(mean(janus.scores)).toBeLessThan(mean(clean.scores));
  });
  it('in a softmin ensemble the gradient is of the aggregated total (cross-view weights), not per-view weighted', async () => {
    // The ensemble passes each view's aggregation weight to weightedGradient; weighting the
    // plain d(sum of scores) per pixel view instead would be wrong for a cross-view reward.
    const weight = 1.5;
    const agg = { softminTemperature: 0.02, sphereBandwidthDegrees: 45 };
    const ens = await RewardEnsemble.create(gpu(), [{ name: 'consistency', weight }], { normalize: 'none', aggregate: 'softmin', ...agg }, '.');
    const views = asViews(small);
    const got = await ens.score(views);
    const total = (b: CpuViews) => aggregateViews('softmin', Float32Array.from(consistencyRef(b, DEFAULTS).scores, (x) => weight * x), b.cameras, agg).total;
    const a = aggregateViews('softmin', Float32Array.from(consistencyRef(small, DEFAULTS).scores, (x) => weight * x), small.cameras, agg);
    // The views' weights differ enough that the two ways of weighting disagree.
    expect(Math.max(...a.weights) / Math.min(...a.weights)).toBeGreaterThan(2);
    const exact = consistencyRef(small, DEFAULTS, Array.from(a.weights, (w) => w * weight)).grads;
    const plain = consistencyRef(small, DEFAULTS).grads;
    const P = small.width * small.height;
    for (const k of ['rgb', 'depth'] as const) {
      const g = await gpu().readF32(got.grads![k]!);
      expectGradClose(g, exact[k], `ensemble d/d${k} vs weighted reference`);
      const coords = sampleCoords(exact[k], 20, 11);
      const fd = fdAt(small[k], () => total(small), coords, 1e-4);
      expectGradClose(pick(g, coords), fd, `ensemble d/d${k} vs finite differences of the total`, 3e-2, 0.995);
      const channels = k === 'rgb' ? 3 : 1;
      const perViewWeighted = plain[k].map((x, i) => x * weight * a.weights[Math.floor(i / (P * channels))]);
      const off = Math.hypot(...pick(perViewWeighted, coords).map((x, q) => x - fd[q])) / Math.hypot(...fd);
      expect(off, `per-view weighting of d/d${k} would be off by ${off}`).toBeGreaterThan(0.05);
    }
    // Ranking callers skip the backward: no gradients come back.
    const ranked = await ens.score(views, { gradients: false });
    expect(ranked.grads).toBeUndefined();
    expect(ranked.total).toBeCloseTo(got.total, 6);
    for (const b of [views.rgb, views.alpha, views.depth, views.normal]) b.destroy();
    await ens.destroy();
  });
});
