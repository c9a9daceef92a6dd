import { describe, expect, it } from 'vitest';
import { resolve } from 'node:path';
import { useGpu } from '../helpers/gpu.ts';
import { expectClose, expectGradClose } from '../helpers/compare.ts';
import { RewardEnsemble } from '../../src/rewards/ensemble.ts';
import { loadRewardPlugin } from '../../src/rewards/registry.ts';
import { accumulateCotangents } from '../../src/rewards/cotangents.ts';
import { accumulateViewsRef } from '../../src/reference/rewards/accumulate-views.ts';
import { aggregateViews } from '../../src/rewards/aggregate.ts';
import { centredRanks, emptyStats, updateStats } from '../../src/rewards/normalize.ts';
import { InputError } from '../../src/errors.ts';
import { uploadViews, type CpuViews } from '../../src/reference/rewards/analytic-scenes.ts';
import type { RewardSpec, RewardViews } from '../../src/rewards/plugin.ts';
import { cube, render, ringCameras, rng, soften } from './helpers/scenes.ts';
import { pick, sampleCoords } from './helpers/fd.ts';

const gpu = useGpu();
const SCENES = resolve(import.meta.dirname, '../../scenes');
const FIXTURES = resolve(import.meta.dirname, 'fixtures');
const asViews = (v: CpuViews, prompt = ''): RewardViews => ({ ...uploadViews(gpu(), v), times: v.cameras.map(() => 0), prompt });

/** Cube rendered slightly off-centre so that centredness has something to say. */
function offCentre(size: number, n: number): CpuViews {
  const cams = ringCameras(n, size, 15);
  return soften(render([{ ...cube(), center: [0.25, 0.1, 0] }], cams), 5);
}

describe('reward ensemble', () => {
  it('accumulate_views kernel matches the reference', async () => {
    const g = gpu();
    const r = rng(3);
    const V = 3, P = 37;
    const g0 = Float32Array.from({ length: V * P * 3 }, () => r() - 0.5);
    const out0 = Float32Array.from({ length: V * P * 3 }, () => r() - 0.5);
    const coef = Float32Array.from([0.5, -2, 1.25]);
    const out = { rgb: g.upload('o', out0) };
    const enc = g.device.createCommandEncoder();
    const temps = await accumulateCotangents(g, enc, out, { rgb: g.upload('g', g0) }, coef, P, 't');
    await g.submit('t', enc);
    expectClose(await g.readF32(out.rgb), accumulateViewsRef(out0, g0, coef, P * 3), 1e-6);
    temps.forEach((t) => t.destroy());
  });

  it('running statistics equal the batch statistics within the window; ranks are centred', () => {
    const xs = Float32Array.from({ length: 50 }, (_, i) => Math.sin(i) * 3 + i * 0.1);
    const s = emptyStats();
    updateStats(s, xs.subarray(0, 20), 1000);
    updateStats(s, xs.subarray(20), 1000);
    const m = xs.reduce((a, b) => a + b, 0) / xs.length;
    const v = xs.reduce((a, b) => a + (b - m) ** 2, 0) / xs.length;
    expect(s.mean).toBeCloseTo(m, 4);
    expect(s.variance).toBeCloseTo(v, 3);
    const ranks = centredRanks(Float32Array.from([3, 1, 2, 2]));
    expect(Array.from(ranks)).toEqual([1, -1, 0, 0]);
  });

  it('aggregation weights are the derivative of the total (mean, softmin, sphere-smooth)', () => {
    const cams = ringCameras(6, 8, 10);
    const x = Float32Array.from([0.3, -0.2, 0.8, 0.1, -0.5, 0.4]);
    const opts = { softminTemperature: 0.3, sphereBandwidthDegrees: 50 };
    for (const mode of ['mean', 'softmin', 'sphere-smooth'] as const) {
      const a = aggregateViews(mode, x, cams, opts);
      const fd = Array.from(x, (_, i) => {
        const p = Float32Array.from(x); p[i] += 1e-3;
        const m = Float32Array.from(x); m[i] -= 1e-3;
        return (aggregateViews(mode, p, cams, opts).total - aggregateViews(mode, m, cams, opts).total) / (p[i] - m[i]);
      });
      expectGradClose(a.weights, fd, `${mode} weights`);
    }
    const soft = aggregateViews('softmin', x, cams, opts).total;
    expect(soft).toBeLessThan(aggregateViews('mean', x, cams, opts).total);
    expect(soft).toBeGreaterThan(aggregateViews('min', x, cams, opts).total);
  });

  it('loads the README example plugin from a path and combines weighted gradients', async () => {
    const cpu = offCentre(20, 3);
    const views = asViews(cpu);
    const specs = [
      { name: 'geometry', weight: 0.5 },
      { module: 'plugins/example-plugin.ts', weight: 2, options: { target: [0.5, 0.5] } },
    ];
    const ens = await RewardEnsemble.create(gpu(), specs, { normalize: 'none', aggregate: 'mean' }, SCENES);
    const r = await ens.score(views);
    expect(r.failures).toEqual([]);
    expect(Object.keys(r.components).sort()).toEqual(['centredness', 'geometry']);
    // The total is the mean of the weighted sum of the components.
    const expectTotal = 0.5 * r.components.geometry.mean + 2 * r.components.centredness.mean;
    expect(r.total).toBeCloseTo(expectTotal, 5);
    expect(r.components.centredness.mean).toBeLessThan(-1e-3);
    // Gradient: (w_k / V) times each plugin's own gradient.
    const geo = await (await loadRewardPlugin({ name: 'geometry', weight: 1 }, SCENES)).score(views, gpu());
    const cen = await (await loadRewardPlugin(specs[1], SCENES)).score(views, gpu());
    const ga = await gpu().readF32(geo.grads!.alpha!);
    const ca = await gpu().readF32(cen.grads!.alpha!);
    const want = ga.map((g, i) => (0.5 * g + 2 * ca[i]) / 3);
    expectGradClose(await gpu().readF32(r.grads!.alpha!), want, 'ensemble d/dalpha');
    expectGradClose(await gpu().readF32(r.grads!.normal!), (await gpu().readF32(geo.grads!.normal!)).map((g) => (0.5 * g) / 3), 'ensemble d/dnormal');
    await ens.destroy();
  });

  it('needs normals when a component reads them, and counts an undeclared plugin as reading them', async () => {
    const needs = async (specs: RewardSpec[]) => {
      const ens = await RewardEnsemble.create(gpu(), specs, { normalize: 'none', aggregate: 'mean' }, SCENES);
      const out = { ...ens.needs, needing: ens.needing('normal') };
      await ens.destroy();
      return out;
    };
    // Built-ins that read no normals (the geometry and Janus terms off) let the trainer skip them.
    const none: RewardSpec[] = [
      { name: 'prompt-attributes', weight: 1 },
      { name: 'geometry', weight: 1, options: { normalWeight: 0 } },
      { name: 'consistency', weight: 1, options: { janusWeight: 0 } },
    ];
    expect(await needs(none)).toEqual({ distortion: false, normal: false, needing: [] });
    expect((await needs([...none, { name: 'geometry', weight: 0.2 }])).needing).toEqual(['geometry#2']);
    expect((await needs([{ name: 'consistency', weight: 1 }])).normal).toBe(true);
    // The example plugin declares nothing: it may read views.normal, so normals stay on.
    expect((await needs([...none, { module: 'plugins/example-plugin.ts', weight: 1 }])).needing).toEqual(['centredness']);
  });

  it('the example plugin and a softmin ensemble match finite differences of their scores', async () => {
    const cpu = offCentre(12, 2);
    const ens = await RewardEnsemble.create(gpu(), [{ module: 'plugins/example-plugin.ts', weight: 1.5 }], { normalize: 'none', aggregate: 'softmin', softminTemperature: 0.01 }, SCENES);
    const base = await ens.score(asViews(cpu));
    const grad = await gpu().readF32(base.grads!.alpha!);
    const coords = sampleCoords(grad, 12, 4);
    const fd: number[] = [];
    for (const i of coords) {
      const keep = cpu.alpha[i];
      cpu.alpha[i] = keep + 1e-2;
      const hi = cpu.alpha[i];
      const p = (await ens.score(asViews(cpu))).total;
      cpu.alpha[i] = keep - 1e-2;
      const lo = cpu.alpha[i];
      const m = (await ens.score(asViews(cpu))).total;
      cpu.alpha[i] = keep;
      fd.push((p - m) / (hi - lo));
    }
    expectGradClose(pick(grad, coords), fd, 'softmin ensemble vs finite differences', 2e-2, 0.999);
    await ens.destroy();
  });

  it('reports a throwing and a NaN plugin by name and still scores the others', async () => {
    const views = asViews(offCentre(16, 2));
    const specs = [
      { module: resolve(FIXTURES, 'throwing-plugin.ts'), weight: 1, options: { mode: 'throw' } },
      { module: 'plugins/example-plugin.ts', weight: 1 },
      { module: resolve(FIXTURES, 'throwing-plugin.ts'), weight: 1, options: { mode: 'nan' } },
    ];
    const ens = await RewardEnsemble.create(gpu(), specs, { normalize: 'running', aggregate: 'sphere-smooth' }, SCENES);
    const r = await ens.score(views);
    expect(r.failures.map((f) => f.plugin).sort()).toEqual(['failing-nan', 'failing-throw']);
    expect(r.failures.find((f) => f.plugin === 'failing-throw')!.error).toMatch(/exploded/);
    expect(r.failures.find((f) => f.plugin === 'failing-nan')!.error).toMatch(/non-finite/);
    expect(Object.keys(r.components)).toEqual(['centredness']);
    expect(Number.isFinite(r.total)).toBe(true);
    expect(Array.from(r.perView).every(Number.isFinite)).toBe(true);
    await ens.destroy();
  });

  it('bad options, unknown names and missing modules get an InputError naming plugin and field', async () => {
    const bad = async (spec: object, pattern: RegExp) => {
      const err = await loadRewardPlugin(spec as never, SCENES).catch((e) => e);
      expect(err).toBeInstanceOf(InputError);
      expect(String(err.message)).toMatch(pattern);
    };
    await bad({ name: 'geometry', weight: 1, options: { entropyWeight: -1 } }, /'geometry'.*entropyWeight/);
    await bad({ name: 'geometry', weight: 1, options: { entropyWieght: 1 } }, /'geometry'.*entropyWieght.*not a known option/);
    await bad({ module: 'plugins/example-plugin.ts', weight: 1, options: { target: 'middle' } }, /example-plugin\.ts.*target/);
    await bad({ module: resolve(FIXTURES, 'throwing-plugin.ts'), weight: 1 }, /throwing-plugin\.ts.*'mode' is required/);
    await bad({ name: 'geometri', weight: 1 }, /unknown built-in/);
    await bad({ module: 'plugins/missing.ts', weight: 1 }, /no file at/);
    await bad({ name: 'geometry', weight: Number.NaN }, /'geometry'.*weight/);
    await expect(RewardEnsemble.create(gpu(), [{ name: 'geometry', weight: 1 }], { normalize: 'zscore' as never, aggregate: 'mean' }, SCENES)).rejects.toThrow(/normalize/);
  });

  it('running statistics survive a checkpoint (stateDict / loadStateDict)', async () => {
    const spec = [{ module: 'plugins/example-plugin.ts', weight: 1 }];
    const cfg = { normalize: 'running' as const, aggregate: 'mean' as const };
    const a = await RewardEnsemble.create(gpu(), spec, cfg, SCENES);
    await a.score(asViews(offCentre(12, 3)));
    const state = JSON.parse(JSON.stringify(a.stateDict()));
    expect(state.components.centredness.count).toBe(3);
    const b = await RewardEnsemble.create(gpu(), spec, cfg, SCENES);
    b.loadStateDict(state);
    const next = render([{ ...cube(), center: [-0.3, 0, 0] }], ringCameras(3, 12, 15));
    const ra = await a.score(asViews(next));
    const rb = await b.score(asViews(next));
    expectClose(rb.perView, ra.perView, 1e-6, 'restored normalisation');
    expect(() => b.loadStateDict({ version: 2 } as never)).toThrow(InputError);
    await a.destroy();
    await b.destroy();
  });
});
