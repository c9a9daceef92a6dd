// 4D NeRF: ray samples warped by a HexPlane deformation field at each camera's time. The
// WGSL march against the TypeScript reference (images, canonical and deformation gradients),
// the reference against central finite differences, and a zero-initialised deformation
// rendering exactly the static field.
import { describe, expect, it } from 'vitest';
import { useGpu } from '../helpers/gpu.ts';
import { expectClose, expectGradClose, finiteDifferences, maxAbsDiff } from '../helpers/compare.ts';
import { RadianceField, initialFieldParams } from '../../src/scene/radiance-field.ts';
import { fieldLayout } from '../../src/scene/nerf/layout.ts';
import { marchSettings, NerfRenderer } from '../../src/render/nerf/renderer.ts';
import { objectiveReference, renderBackwardReference, renderReference, type ReferenceField } from '../../src/reference/nerf/render.ts';
import { HexPlaneField, initialHexPlaneState } from '../../src/scene/deform/hexplane-field.ts';
import { DEFAULT_HEXPLANE, hexPlaneLayout, type HexPlaneConfig } from '../../src/scene/deform/hexplane-layout.ts';
import { Rng } from '../../src/train/rng.ts';
import type { Camera } from '../../src/math/camera.ts';
import { randomArray, smallConfig, views } from './fixtures.ts';

const gpu = useGpu();
const background: [number, number, number] = [0.2, 0.4, 0.6];

const hexConfig: HexPlaneConfig = {
  ...DEFAULT_HEXPLANE,
  boundsMin: [-1, -1, -1],
  boundsMax: [1, 1, 1],
  resolutions: [4, 6],
  timeResolution: 4,
  features: 3,
  hidden: 6,
};

/** A HexPlane state that moves points by up to ~0.15 and differently over time. */
function movingState(seed: number) {
  const state = initialHexPlaneState(hexConfig, seed);
  const L = hexPlaneLayout(hexConfig);
  const rng = new Rng(seed + 1);
  // Time planes vary around 1, so that the offsets change with t.
  for (let i = 0; i < state.planes.length; i++) state.planes[i] += rng.uniform(-0.3, 0.3);
  for (let o = 0; o < 3; o++) {
    state.mlp[L.b2 + o] = rng.uniform(-0.05, 0.05);
    for (let j = 0; j < L.hidden; j++) state.mlp[L.w2 + o * L.hidden + j] = rng.uniform(-0.4, 0.4);
  }
  return state;
}

function timed(cams: Camera[], times: number[]): Camera[] {
  return cams.map((c, i) => ({ ...c, time: times[i] }));
}

describe('4D NeRF renderer vs reference', () => {
  it('forward and the canonical and deformation gradients match', async () => {
    const g = gpu();
    const cfg = smallConfig({ seed: 3 });
    const { hash, mlp } = initialFieldParams(cfg);
    const field = RadianceField.fromParams(g, cfg, hash, mlp);
    const state = movingState(4);
    const def = await HexPlaneField.fromStateOn(g, state);
    const renderer = await NerfRenderer.create(g);
    const cams = timed(views(2, 12), [0.2, 0.85]);
    const opts = { background, stepSize: 0.06, normals: false };
    const frame = await renderer.forward(field, cams, { ...opts, deformation: def });
    const ref: ReferenceField = { layout: field.layout, hash, mlp, deformation: { config: hexConfig, planes: state.planes, mlp: state.mlp } };
    const s = marchSettings(field.layout, opts);
    const img = renderReference(ref, cams, s);
    expectClose(await g.readF32(frame.rgb), img.rgb, 1e-4, 'rgb');
    expectClose(await g.readF32(frame.alpha), img.alpha, 1e-4, 'alpha');
    expectClose(await g.readF32(frame.depth), img.depth, 1e-4, 'depth');
    // The warp matters: the static field renders differently.
    const still = renderReference({ layout: field.layout, hash, mlp }, cams, s);
    expect(maxAbsDiff(still.rgb, img.rgb)).toBeGreaterThan(0.02);
    expect(Math.min(...img.alpha)).toBeLessThan(0.5);
    expect(Math.max(...img.alpha)).toBeGreaterThan(0.5);

    const n = frame.rays;
    const cot = { rgb: randomArray(n * 3, 1), alpha: randomArray(n, 2), depth: randomArray(n, 3, -0.3, 0.3) };
    await g.run('zero', (enc) => {
      field.zeroGrads(enc);
      def.zeroGrads(enc);
    });
    await renderer.backward(frame, { rgb: g.upload('cot rgb', cot.rgb), alpha: g.upload('cot a', cot.alpha), depth: g.upload('cot d', cot.depth) });
    const grads = await field.readGrads();
    const refGrads = renderBackwardReference(ref, cams, s, cot, img);
    expectGradClose(grads.hash, refGrads.hash, 'hash gradient');
    expectGradClose(grads.mlp, refGrads.mlp, 'mlp gradient');
    const planesGrad = await g.readF32(def.planesGrad);
    const defMlpGrad = await g.readF32(def.mlpGrad);
    expectGradClose(planesGrad, refGrads.deformPlanes!, 'deformation planes gradient');
    expectGradClose(defMlpGrad, refGrads.deformMlp!, 'deformation mlp gradient');
    expect(Math.max(...planesGrad.map(Math.abs))).toBeGreaterThan(1e-4);
    frame.destroy();
    renderer.destroy();
    def.destroy();
    field.destroy();
  });

  it('a normal cotangent reaches the canonical and deformation parameters as the reference says', async () => {
    const g = gpu();
    const cfg = smallConfig({ seed: 13, levels: 3, hiddenWidth: 8 });
    const { hash, mlp } = initialFieldParams(cfg);
    const field = RadianceField.fromParams(g, cfg, hash, mlp);
    const state = movingState(14);
    const def = await HexPlaneField.fromStateOn(g, state);
    const cams = timed(views(2, 8), [0.1, 0.6]);
    const opts = { background, stepSize: 0.07 };
    const frame = await field.render(cams, { ...opts, deformation: def });
    const ref: ReferenceField = { layout: field.layout, hash, mlp, deformation: { config: hexConfig, planes: state.planes, mlp: state.mlp } };
    const s = marchSettings(field.layout, opts);
    const img = renderReference(ref, cams, s);
    expectClose(await g.readF32(frame.normal), img.normal, 1e-3, 'normal');
    const normal = randomArray(frame.rays * 3, 15);
    await g.run('zero', (enc) => {
      field.zeroGrads(enc);
      def.zeroGrads(enc);
    });
    await field.backward(frame, { normal: g.upload('cot normal', normal) });
    const refGrads = renderBackwardReference(ref, cams, s, { normal }, img);
    const grads = await field.readGrads();
    expectGradClose(grads.hash, refGrads.hash, 'normal: hash gradient');
    expectGradClose(grads.mlp, refGrads.mlp, 'normal: mlp gradient');
    expectGradClose(await g.readF32(def.planesGrad), refGrads.deformPlanes!, 'normal: deformation planes gradient');
    expectGradClose(await g.readF32(def.mlpGrad), refGrads.deformMlp!, 'normal: deformation mlp gradient');
    frame.destroy();
    def.destroy();
    field.destroy();
  });

  it('a zero-initialised deformation renders exactly the static field, at any time', async () => {
    const g = gpu();
    const cfg = smallConfig({ seed: 9 });
    const { hash, mlp } = initialFieldParams(cfg);
    const field = RadianceField.fromParams(g, cfg, hash, mlp);
    const def = await HexPlaneField.create(g, hexConfig, 5);
    const cams = timed(views(2, 12), [0, 0.7]);
    const opts = { background, stepSize: 0.05 };
    const still = await field.render(cams, opts);
    const moving = await field.render(cams, { ...opts, deformation: def });
    for (const k of ['rgb', 'alpha', 'depth', 'normal'] as const) {
      const a = await g.readF32(still[k]);
      const b = await g.readF32(moving[k]);
      expect(maxAbsDiff(a, b), k).toBe(0);
    }
    // A new field is static but not inert: the first backward already reaches its output layer.
    await g.run('zero', (enc) => def.zeroGrads(enc));
    await field.backward(moving, { rgb: g.upload('cot', randomArray(moving.rays * 3, 8)) });
    const mlpGrad = await g.readF32(def.mlpGrad);
    const L = hexPlaneLayout(hexConfig);
    expect(Math.max(...mlpGrad.slice(L.w2, L.w2 + 3 * L.hidden).map(Math.abs))).toBeGreaterThan(1e-5);
    still.destroy();
    moving.destroy();
    def.destroy();
    field.destroy();
  });
});

describe('4D NeRF reference gradients vs central finite differences (f64)', () => {
  it('matches for canonical and deformation parameters (rgb, alpha, depth and normal cotangents)', () => {
    const cfg = smallConfig({ seed: 5, levels: 3, hiddenWidth: 8 });
    const layout = fieldLayout(cfg);
    const init = initialFieldParams(cfg, layout);
    const state = movingState(6);
    const L = hexPlaneLayout(hexConfig);
    const hash = Float64Array.from(init.hash);
    const mlp = Float64Array.from(init.mlp);
    const planes = Float64Array.from(state.planes);
    const dmlp = Float64Array.from(state.mlp);
    const field: ReferenceField = { layout, hash, mlp, deformation: { config: hexConfig, planes, mlp: dmlp } };
    const cams = timed(views(1, 8), [0.4]);
    const s = marchSettings(layout, { background, stepSize: 0.07, normals: true });
    const n = 64;
    // The normal's cotangent small beside the others' keeps every term's gradient visible.
    const cot = { rgb: randomArray(n * 3, 4), alpha: randomArray(n, 5), depth: randomArray(n, 6, -0.3, 0.3), normal: randomArray(n * 3, 7, -0.3, 0.3) };
    const grads = renderBackwardReference(field, cams, s, cot);
    const top = (gr: Float64Array, k: number) => Array.from(gr.keys()).sort((a, b) => Math.abs(gr[b]) - Math.abs(gr[a])).slice(0, k);
    // [parameters, indices checked, their analytic gradients]
    const blocks: [Float64Array, number[], Float64Array][] = [
      [hash, top(grads.hash, 3), grads.hash],
      [planes, top(grads.deformPlanes!, 6), grads.deformPlanes!],
      [dmlp, [L.w1 + 2, L.b1 + 1, L.w2, L.w2 + L.hidden + 3, L.b2 + 2], grads.deformMlp!],
    ];
    const objective = () => objectiveReference(field, cams, s, cot);
    const fd = blocks.flatMap(([x, idx]) => [...finiteDifferences(objective, x, idx)]);
    const analytic = blocks.flatMap(([, idx, g]) => idx.map((i) => g[i]));
    fd.forEach((d, k) => expect(Math.abs(d - analytic[k]), `pick ${k}: fd ${d} analytic ${analytic[k]}`).toBeLessThan(1e-5 + 1e-3 * Math.abs(d)));
    expect(fd.filter((d) => Math.abs(d) > 1e-3).length).toBeGreaterThanOrEqual(10);
  });
});
