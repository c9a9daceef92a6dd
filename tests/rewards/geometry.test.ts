import { describe, expect, it } from 'vitest';
import { useGpu } from '../helpers/gpu.ts';
import { expectClose, expectGradClose } from '../helpers/compare.ts';
import createGeometryReward from '../../src/rewards/geometry.ts';
import { geometryImageRef, splatPlausibilityRef } from '../../src/reference/rewards/geometry.ts';
import { uploadViews, type CpuViews } from '../../src/reference/rewards/analytic-scenes.ts';
import type { RewardViews } from '../../src/rewards/plugin.ts';
import { cube, floaters, render, ringCameras, rng, soften } from './helpers/scenes.ts';
import { fdAt, pick, sampleCoords } from './helpers/fd.ts';

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
});
