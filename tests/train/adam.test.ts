import { describe, expect, it, vi } from 'vitest';
import { Adam } from '../../src/train/adam.ts';
import { adamStepReference } from '../../src/reference/adam.ts';
import { InputError } from '../../src/errors.ts';
import { expectClose } from '../helpers/compare.ts';
import { useGpu, withBindingLimit } from '../helpers/gpu.ts';

const gpu = useGpu();

function randomArray(n: number, seed: number, scale = 1): Float32Array {
  let s = seed >>> 0;
  return Float32Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s / 2 ** 32 - 0.5) * 2 * scale;
  });
}

const hyper = { beta1: 0.9, beta2: 0.999, eps: 1e-15 };

describe('Adam (WGSL)', () => {
  it('matches the reference over several steps with per-group learning rates', async () => {
    const g = gpu();
    // Sizes: ragged, and over one workgroup; a large gradient scale spread and a zero grad.
    const spec = [
      { name: 'means', count: 1000, lr: 1.6e-4 },
      { name: 'opacities', count: 257, lr: 5e-2 },
    ];
    const cpu = spec.map((s, k) => ({
      ...s,
      param: randomArray(s.count, 10 + k),
      m: new Float32Array(s.count),
      v: new Float32Array(s.count),
    }));
    const bufs = cpu.map((c) => ({ param: g.upload(`${c.name}`, c.param), grad: g.buffer(`${c.name} grad`, c.count * 4) }));
    const adam = await Adam.create(g, cpu.map((c, k) => ({ name: c.name, count: c.count, lr: c.lr, ...bufs[k] })));
    for (let step = 1; step <= 5; step++) {
      if (step === 4) adam.setLearningRate('means', 1e-3);
      cpu.forEach((c, k) => {
        const grad = randomArray(c.count, step * 100 + k, step === 2 ? 1e-6 : 3);
        grad[0] = 0;
        g.write(bufs[k].grad, grad);
        adamStepReference(c.param, grad, c.m, c.v, adam.learningRate(c.name), step, hyper);
      });
      await g.run('adam step', (enc) => adam.step(enc));
    }
    expect(adam.stepCount).toBe(5);
    const state = await adam.exportState();
    for (const [k, c] of cpu.entries()) {
      expectClose(await g.readF32(bufs[k].param, c.count), c.param, 1e-6, `${c.name} params`);
      const s = state.groups.find((x) => x.name === c.name)!;
      expectClose(s.m, c.m, 1e-6, `${c.name} m`);
      expectClose(s.v, c.v, 1e-6, `${c.name} v`);
    }
    adam.destroy();
  });

  it('minimises a quadratic and zeroes gradients when asked', async () => {
    const g = gpu();
    const n = 64;
    const target = randomArray(n, 7, 2);
    const curvature = Float32Array.from({ length: n }, (_, i) => 0.1 + (i % 8));
    const param = g.upload('x', new Float32Array(n));
    const grad = g.buffer('x grad', n * 4);
    const adam = await Adam.create(g, [{ name: 'x', param, grad, count: n, lr: 0.1 }]);
    const loss = (x: Float32Array) => x.reduce((acc, xi, i) => acc + 0.5 * curvature[i] * (xi - target[i]) ** 2, 0);
    let x = await g.readF32(param);
    const initial = loss(x);
    for (let step = 0; step < 150; step++) {
      g.write(grad, x.map((xi, i) => curvature[i] * (xi - target[i])));
      adam.setLearningRate('x', 0.1 * 0.98 ** step);
      await g.run('adam', (enc) => adam.step(enc, { zeroGrads: true }));
      x = await g.readF32(param);
    }
    expect((await g.readF32(grad)).every((v) => v === 0)).toBe(true);
    expect(loss(x)).toBeLessThan(1e-4 * initial);
    adam.destroy();
  });

  it('resumes bit-exactly from exported state, and replaces groups with given moments', async () => {
    const g = gpu();
    const n = 300;
    const start = randomArray(n, 1);
    const grads = Array.from({ length: 6 }, (_, s) => randomArray(n, 50 + s));
    const run = async (adam: Adam, param: GPUBuffer, grad: GPUBuffer, from: number, to: number) => {
      for (let s = from; s < to; s++) {
        g.write(grad, grads[s]);
        await g.run('adam', (enc) => adam.step(enc));
      }
    };
    const pa = g.upload('a', start);
    const ga = g.buffer('a grad', n * 4);
    const a = await Adam.create(g, [{ name: 'p', param: pa, grad: ga, count: n, lr: 0.01 }]);
    await run(a, pa, ga, 0, 3);
    const checkpoint = await a.exportState();
    const paramsAt3 = await g.readF32(pa);
    await run(a, pa, ga, 3, 6);

    const pb = g.upload('b', paramsAt3);
    const gb = g.buffer('b grad', n * 4);
    const b = await Adam.create(g, [{ name: 'p', param: pb, grad: gb, count: n, lr: 0.5 }]);
    b.importState(checkpoint);
    expect(b.stepCount).toBe(3);
    expect(b.learningRate('p')).toBe(0.01);
    await run(b, pb, gb, 3, 6);
    expect(Buffer.from((await g.readF32(pb)).buffer).equals(Buffer.from((await g.readF32(pa)).buffer))).toBe(true);

    // Densification: a group of a new size, moments carried over for the first half.
    const m = new Float32Array(2 * n);
    const v = new Float32Array(2 * n);
    m.set(checkpoint.groups[0].m);
    v.set(checkpoint.groups[0].v);
    b.replaceGroup('p', g.buffer('b2', 2 * n * 4), g.buffer('b2 grad', 2 * n * 4), 2 * n, { m, v });
    const after = await b.exportState();
    expect(after.groups[0].count).toBe(2 * n);
    expectClose(after.groups[0].m, m, 0, 'replaced m');
    expect(() => b.replaceGroup('p', pb, gb, n, { m, v })).toThrow(InputError);
    a.destroy();
    b.destroy();
  });

  it('steps groups over the binding limit range by range, as the unsplit steps', async () => {
    const g = gpu();
    // 3000 bytes per binding: ranges at aligned offsets (not multiples of 3000), the last ragged.
    const spec = [
      { name: 'sh', count: 1400, lr: 2.5e-3 },
      { name: 'small', count: 70, lr: 1e-2 },
    ];
    const runSteps = (limit: string | undefined) => withBindingLimit(limit, async () => {
      const dispatch = vi.spyOn(g, 'dispatch');
      try {
        const bufs = spec.map((s, k) => ({
          param: g.upload(s.name, randomArray(s.count, 3 + k), undefined, true),
          grad: g.buffer(`${s.name} grad`, s.count * 4, undefined, true),
        }));
        const adam = await Adam.create(g, spec.map((s, k) => ({ ...s, ...bufs[k] })));
        for (let step = 1; step <= 3; step++) {
          spec.forEach((s, k) => g.write(bufs[k].grad, randomArray(s.count, 40 + 7 * step + k, 2)));
          await g.run('adam', (enc) => adam.step(enc));
        }
        const out = await Promise.all(bufs.map((b, k) => g.readF32(b.param, spec[k].count)));
        const state = await adam.exportState();
        adam.destroy();
        return { out, state, dispatches: dispatch.mock.calls.length };
      } finally {
        dispatch.mockRestore();
      }
    });
    const whole = await runSteps(undefined);
    const split = await runSteps('3000');
    expect(whole.dispatches).toBe(3 * spec.length);
    expect(split.dispatches).toBe(3 * (spec.length + 1)); // 'sh' in two ranges
    // The reference, over the whole arrays.
    spec.forEach((s, k) => {
      const p = randomArray(s.count, 3 + k);
      const m = new Float32Array(s.count);
      const v = new Float32Array(s.count);
      for (let step = 1; step <= 3; step++) adamStepReference(p, randomArray(s.count, 40 + 7 * step + k, 2), m, v, s.lr, step, hyper);
      expectClose(split.out[k], p, 1e-6, `${s.name} params (split)`);
      expectClose(split.state.groups[k].m, m, 1e-6, `${s.name} m (split)`);
      expect(Buffer.from(split.out[k].buffer).equals(Buffer.from(whole.out[k].buffer))).toBe(true);
    });
  });

  it('rejects bad groups and mismatched state with an InputError', async () => {
    const g = gpu();
    const p = g.buffer('p', 40);
    const gr = g.buffer('g', 40);
    await expect(Adam.create(g, [{ name: 'x', param: p, grad: gr, count: 11, lr: 0.1 }])).rejects.toThrow(InputError);
    await expect(Adam.create(g, [{ name: 'x', param: p, grad: gr, count: 10, lr: NaN }])).rejects.toThrow(/learning rate/);
    const adam = await Adam.create(g, [{ name: 'x', param: p, grad: gr, count: 10, lr: 0.1 }]);
    expect(() => adam.setLearningRate('y', 0.1)).toThrow(/no parameter group 'y'/);
    const state = await adam.exportState();
    expect(() => adam.importState({ ...state, groups: [{ ...state.groups[0], name: 'z' }] })).toThrow(InputError);
    expect(() => adam.importState({ ...state, beta1: 0.8 })).toThrow(/beta1/);
    adam.destroy();
  });
});
