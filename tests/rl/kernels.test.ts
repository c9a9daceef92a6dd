// The rl kernels against their TypeScript references (src/reference/rl/).
import { describe, expect, it } from 'vitest';
import { useGpu } from '../helpers/gpu.ts';
import { expectClose } from '../helpers/compare.ts';
import { ParamPolicy, ParamSnapshot } from '../../src/rl/param-policy.ts';
import { CotangentAccumulator, CotangentKernels } from '../../src/rl/cotangents.ts';
import type { BlockSelection } from '../../src/rl/block-selection.ts';
import type { ParamBlock } from '../../src/scene/representation.ts';
import {
  gaussianNoise,
  noiseDotReference,
  noiseGradReference,
  perturbReference,
} from '../../src/reference/rl/param-noise.ts';
import { axpyViewsReference, clipFiniteReference } from '../../src/reference/rl/cotangent.ts';
import { seededRandom } from './helpers/train.ts';

const gpu = useGpu();

function randomArray(n: number, rnd: () => number, scale = 1): Float32Array {
  return Float32Array.from({ length: n }, () => (rnd() * 2 - 1) * scale);
}

function makeSelection(sizes: number[], rnd: () => number): { sel: BlockSelection; values: Float32Array[] } {
  const values = sizes.map((n) => randomArray(n, rnd));
  let offset = 0;
  const blocks = sizes.map((n, i) => {
    const block: ParamBlock = { name: `b${i}`, param: gpu().upload(`p${i}`, values[i]), grad: gpu().upload(`g${i}`, randomArray(n, rnd)), count: n, lr: 0.1 };
    const s = { block, offset };
    offset += n;
    return s;
  });
  return { sel: { blocks, size: offset, signature: 'test' }, values };
}

describe('rl noise kernels', () => {
  it('reference noise is standard normal', () => {
    let s = 0;
    let s2 = 0;
    const n = 20000;
    for (let i = 0; i < n; i++) {
      const x = gaussianNoise(12345, i);
      s += x;
      s2 += x * x;
    }
    expect(Math.abs(s / n)).toBeLessThan(0.03);
    expect(Math.abs(s2 / n - 1)).toBeLessThan(0.05);
  });

  it('perturb, restore, noise_dot and noise_grad match the reference', async () => {
    const rnd = seededRandom(7);
    const { sel, values } = makeSelection([300, 77], rnd);
    const policy = await ParamPolicy.create(gpu());
    const old = new ParamSnapshot(gpu(), sel, 'old');
    const ref = new ParamSnapshot(gpu(), sel, 'ref');
    await gpu().run('snap', (enc) => {
      old.capture(enc);
      ref.capture(enc);
    });
    // ref differs from old: move it.
    const refValues = values.map((v) => v.map((x) => x + 0.25));
    ref.load(refValues.map((v) => Array.from(v)));

    await policy.perturb(sel, old, 99, 0.3);
    for (const [i, s] of sel.blocks.entries()) {
      const got = await gpu().readF32(s.block.param, s.block.count);
      expectClose(got, perturbReference(values[i], 99, 0.3, s.offset), 1e-5, `perturb ${s.block.name}`);
    }
    const seeds = [5, 1234567, 4000000000];
    const dots = await policy.dots(sel, seeds, old, ref);
    const expected = new Float64Array(seeds.length + 2);
    for (const [i, s] of sel.blocks.entries()) {
      const p = await gpu().readF32(s.block.param, s.block.count);
      const r = noiseDotReference(seeds, p, values[i], refValues[i], s.offset);
      for (let k = 0; k < r.length; k++) expected[k] += r[k];
    }
    expectClose([...dots.dots, dots.distOld, dots.distRef], expected, 2e-3, 'noise_dot');

    const coefs = [0.5, -1.25, 2];
    const before = await Promise.all(sel.blocks.map((s) => gpu().readF32(s.block.grad, s.block.count)));
    const params = await Promise.all(sel.blocks.map((s) => gpu().readF32(s.block.param, s.block.count)));
    await policy.accumulateGrad(sel, seeds, coefs, old, 0.7, ref, -0.3);
    for (const [i, s] of sel.blocks.entries()) {
      const got = await gpu().readF32(s.block.grad, s.block.count);
      const want = noiseGradReference(before[i], seeds, coefs, params[i], values[i], refValues[i], 0.7, -0.3, s.offset);
      expectClose(got, want, 1e-4, `noise_grad ${s.block.name}`);
    }

    await policy.restore(old);
    for (const [i, s] of sel.blocks.entries()) {
      const got = await gpu().readF32(s.block.param, s.block.count);
      expect(Array.from(got)).toEqual(Array.from(values[i])); // bit-exact restore
    }

    await policy.moveReference(sel, ref, 0.25);
    const moved = await gpu().readF32(ref.buffers[0], 300);
    expectClose(moved, refValues[0].map((r, j) => r + 0.25 * (values[0][j] - r)), 1e-6, 'lerp_towards');
    old.destroy();
    ref.destroy();
  });

  it('cotangent axpy per view and clip match the reference', async () => {
    const rnd = seededRandom(3);
    const kernels = await CotangentKernels.create(gpu());
    const frame = { views: 3, width: 5, height: 4 };
    const acc = new CotangentAccumulator(gpu(), kernels, frame);
    const n = acc.length('rgb');
    const x1 = randomArray(n, rnd, 2);
    const x2 = randomArray(n, rnd, 2);
    x2[7] = NaN;
    x2[8] = Infinity;
    const w = [1, 0, -2];
    await acc.addHost('rgb', x1, 0.5);
    const b2 = gpu().upload('x2', x2);
    await acc.addScaled('rgb', b2, 1.5, w);
    let want = axpyViewsReference(new Float64Array(n), x1, 0.5, [1, 1, 1], 20 * 3);
    want = axpyViewsReference(want, x2, 1.5, w, 20 * 3);
    const got = await gpu().readF32(acc.cotangents().rgb!, n);
    // NaN/inf entries: compare the finite ones, then the clip zeroes the others.
    const finite = (a: ArrayLike<number>) => Array.from(a, (v) => (Number.isFinite(v) ? v : 0));
    expectClose(finite(got), finite(want), 1e-5, 'axpy_views');
    await acc.clip(1.0);
    const clipped = await gpu().readF32(acc.cotangents().rgb!, n);
    expectClose(clipped, clipFiniteReference(want, 1.0), 1e-5, 'clip_finite');
    expect(clipped[7]).toBe(0);
    expect(clipped[8]).toBe(0);
    acc.destroy();
  });
});
