import { describe, expect, it } from 'vitest';
import { useGpu } from '../helpers/gpu.ts';
import { expectClose } from '../helpers/compare.ts';
import createConsistencyReward from '../../src/rewards/consistency.ts';
import { recordRowSums } from '../../src/rewards/gpu-reduce.ts';
import { janusSumsRef, reprojectRef } from '../../src/reference/rewards/consistency.ts';
import { uploadViews, type CpuViews } from '../../src/reference/rewards/analytic-scenes.ts';
import { neighbourPairs, oppositePairs, towardsCamera } from '../../src/rewards/view-graph.ts';
import type { RewardViews } from '../../src/rewards/plugin.ts';
import { cube, faceColours, facedCube, render, ringCameras, sphere } from './helpers/scenes.ts';

const gpu = useGpu();
const asViews = (v: CpuViews): RewardViews => ({ ...uploadViews(gpu(), v), times: v.cameras.map(() => 0), prompt: '' });
const mean = (a: ArrayLike<number>) => Array.from(a).reduce((s, x) => s + x, 0) / a.length;

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

describe('consistency reward', () => {
  const cams = ringCameras(6, 40, 20);
  const cubeViews = render([cube(faceColours)], cams);

  it('reprojection and Janus kernels match the TypeScript reference', async () => {
    const g = gpu();
    const mixed = swapView(cubeViews, render([sphere()], cams), 2);
    const v = asViews(mixed);
    const pairs = neighbourPairs(cams, 2);
    const P = mixed.width * mixed.height;
    const k = await g.kernel({ file: 'image/consistency.wgsl', entry: 'reproject', defines: { REPROJECT: true } });
    const kj = await g.kernel({ file: 'image/consistency.wgsl', entry: 'janus', defines: { JANUS: true } });
    const params = new ArrayBuffer(32);
    new Uint32Array(params, 0, 4).set([mixed.width, mixed.height, pairs.length, pairs.length * P]);
    new Float32Array(params, 16, 2).set([0.05, 0.5]);
    const u = g.uniform('p', new Uint8Array(params));
    const pb = g.upload('pairs', Uint32Array.from(pairs.flat()));
    const { packCameras } = await import('../../src/rewards/gpu-reduce.ts');
    const cb = g.upload('cams', packCameras(cams));
    const rec = g.buffer('rec', pairs.length * P * 16);
    const opp = oppositePairs(cams, 135);
    expect(opp.length).toBeGreaterThan(0);
    const ob = g.upload('opp', Uint32Array.from(opp.flat()));
    const js = g.buffer('js', opp.length * 64);
    const temps: GPUBuffer[] = [];
    const enc = g.device.createCommandEncoder();
    g.dispatch(enc, k, [u, pb, v.rgb, v.alpha, cb, v.depth, rec], Math.ceil((pairs.length * P) / 256));
    const sums = await recordRowSums(g, enc, rec, P, pairs.length, 't', temps);
    const u2 = g.uniform('p2', new Uint8Array(params));
    const dirs = cams.map((c) => [...towardsCamera(c), 0]);
    const db = g.upload('dirs', Float32Array.from(dirs.flat()));
    g.dispatch(enc, kj, [u2, ob, v.rgb, v.alpha, v.normal, db, js], opp.length);
    await g.submit('test', enc);
    const ref = reprojectRef(mixed, pairs, 0.05, 0.5);
    const got = await g.readF32(rec);
    // Nearest-pixel lookups can flip at pixel borders in f32 vs f64: allow a handful of pixels.
    let differ = 0;
    for (let i = 0; i < got.length; i++) if (Math.abs(got[i] - ref[i]) > 1e-4) differ++;
    expect(differ).toBeLessThan(got.length * 0.002);
    const rs = await g.readF32(sums);
    const refSums = new Float64Array(pairs.length * 4);
    for (let p = 0; p < pairs.length; p++) for (let i = 0; i < P; i++) for (let c = 0; c < 4; c++) refSums[p * 4 + c] += got[(p * P + i) * 4 + c];
    expectClose(rs, refSums, 1e-3, 'row sums');
    const jref = janusSumsRef(mixed, opp, 0.5, dirs);
    expect(jref[0]).toBeGreaterThan(10);
    const jgot = await g.readF32(js);
    for (let i = 0; i < jgot.length; i++) expect(Math.abs(jgot[i] - jref[i])).toBeLessThan(1e-3 * Math.max(1, Math.abs(jref[i])));
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
});
