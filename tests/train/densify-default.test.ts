// Default densification on the GPU against the TypeScript reference: actions, the new
// parameters (including split samples' positions and scales) and the carried Adam moments.
import { describe, expect, it } from 'vitest';
import { dispatchesUnderLimit, useGpu } from '../helpers/gpu.ts';
import { GaussianCloud, GaussianGrads } from '../../src/scene/gaussian-cloud.ts';
import { randomGaussiansInSphere } from '../../src/scene/gaussian-init.ts';
import { Adam } from '../../src/train/adam.ts';
import { DefaultDensifier } from '../../src/train/densify-default.ts';
import { DEFAULT_SPLAT_LR } from '../../src/train/config.ts';
import { densifyReference, DensifyAction } from '../../src/reference/train/densify.ts';
import { Rng } from '../../src/train/rng.ts';
import { SPLAT_BLOCK_NAMES, blockWidth } from '../../src/train/splat-blocks.ts';

const getGpu = useGpu();

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

async function refineMatchesReference(): Promise<void> {
  const gpu = getGpu();
  const n = 300;
  const data = randomGaussiansInSphere({ count: n, radius: 1, shDegree: 1, seed: 5, scaleSpread: 1.0, opacity: 0.3 });
  const rng = new Rng(9);
  // Spread opacities so that some fall under the prune threshold.
  for (let i = 0; i < n; i++) data.opacityLogits[i] = rng.uniform(-7, 2);
  const gradNorm = Float32Array.from({ length: n }, () => rng.uniform(0, 0.0006));
  const visible = Float32Array.from({ length: n }, () => (rng.next() < 0.1 ? 0 : 1 + rng.int(3)));
  const cloud = GaussianCloud.fromData(gpu, data);
  const grads = GaussianGrads.create(gpu, n, data.shDegree);
  gpu.write(grads.gradNorm2d, gradNorm);
  gpu.write(grads.visibleCount, visible);
  const K = cloud.shCoeffs;
  const groups = SPLAT_BLOCK_NAMES.map((name) => ({ name, param: cloud[name], grad: grads[name], count: n * blockWidth(name, K), lr: 0.01 }));
  const adam = await Adam.create(gpu, groups);
  const moments: Record<string, { m: Float32Array; v: Float32Array }> = {};
  for (const name of SPLAT_BLOCK_NAMES) {
    const len = n * blockWidth(name, K);
    moments[name] = { m: Float32Array.from({ length: len }, () => rng.normal()), v: Float32Array.from({ length: len }, () => rng.next()) };
    gpu.write(adam.moments(name).m, moments[name].m);
    gpu.write(adam.moments(name).v, moments[name].v);
  }
  const scales = data.logScales.map(Math.exp);
  const median = [...scales].sort((a, b) => a - b)[Math.floor(scales.length / 2)];
  const params = { growGrad2d: 0.0002, growScale3d: median, pruneOpacity: 0.005, pruneScale3d: median * 3, checkTooBig: true, seed: 1234 };
  const densifier = await DefaultDensifier.create(gpu, { strategy: 'default' } as never, 1);
  const { state, counts } = await densifier.refine({ cloud, grads }, adam, { ...params, absgrad: false });
  const ref = densifyReference(data, gradNorm, visible, moments, params);

  const actions = ref.actions;
  const dup = actions.filter((a) => a === DensifyAction.Duplicate).length;
  const split = actions.filter((a) => a === DensifyAction.Split).length;
  const pruned = actions.filter((a) => a === DensifyAction.Prune).length;
  // The fixture exercises every branch.
  expect(dup).toBeGreaterThan(5);
  expect(split).toBeGreaterThan(5);
  expect(pruned).toBeGreaterThan(5);
  expect(counts).toEqual({ before: n, after: ref.data.count, duplicated: dup, split, pruned });
  expect(state.cloud.count).toBe(n - pruned + dup + split);

  const got = await state.cloud.toData();
  expect(maxAbsDiff(got.means, ref.data.means)).toBeLessThan(1e-4);
  expect(maxAbsDiff(got.logScales, ref.data.logScales)).toBeLessThan(1e-5);
  expect(maxAbsDiff(got.quats, ref.data.quats)).toBe(0);
  expect(maxAbsDiff(got.opacityLogits, ref.data.opacityLogits)).toBe(0);
  expect(maxAbsDiff(got.sh, ref.data.sh)).toBe(0);
  const exported = await adam.exportState();
  for (const g of exported.groups) {
    expect(g.count).toBe(ref.data.count * blockWidth(g.name as never, K));
    expect(maxAbsDiff(g.m, ref.moments[g.name].m)).toBe(0);
    expect(maxAbsDiff(g.v, ref.moments[g.name].v)).toBe(0);
  }
  // Split samples moved: the two samples of a split splat differ.
  const firstSplit = actions.indexOf(DensifyAction.Split);
  const row = actions.slice(0, firstSplit).reduce((s, a) => s + (a === 0 ? 0 : a === 1 ? 1 : 2), 0);
  expect(got.means[3 * row]).not.toBe(got.means[3 * row + 3]);
  // Statistics restart.
  expect(Array.from(await gpu.readF32(state.grads.visibleCount, state.cloud.count)).every((v) => v === 0)).toBe(true);

  // Opacity reset clamps logits and zeroes the opacity moments.
  await densifier.resetOpacity(state, adam, 0.01);
  const after = await state.cloud.toData();
  const ceiling = Math.log(0.01 / 0.99);
  after.opacityLogits.forEach((v, i) => expect(v).toBeCloseTo(Math.min(got.opacityLogits[i], ceiling), 5));
  expect((await gpu.readF32(adam.moments('opacityLogits').m)).every((v) => v === 0)).toBe(true);
  densifier.destroy();
  adam.destroy();
  state.cloud.destroy();
  state.grads.destroy();
}

describe('default densification', () => {
  it('matches the reference: clone, split, prune and moments', () => refineMatchesReference());

  it('matches it with SH, SH gradients and moments over the binding limit (bound in ranges)', async () => {
    const whole = await dispatchesUnderLimit(getGpu(), undefined, refineMatchesReference);
    // 9000 bytes per binding: SH (48 bytes per splat, ~300 splats) in two ranges.
    const split = await dispatchesUnderLimit(getGpu(), '9000', refineMatchesReference);
    expect(split).toBe(whole + 3); // one more range for the SH rows, its m and its v
  });
});
