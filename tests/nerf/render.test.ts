// The WGSL ray marcher against the TypeScript reference: images, parameter gradients, and
// the reference's gradients against central finite differences.
import { describe, expect, it } from 'vitest';
import { useGpu } from '../helpers/gpu.ts';
import { expectClose, expectGradClose, finiteDifferences } from '../helpers/compare.ts';
import { RadianceField, initialFieldParams } from '../../src/scene/radiance-field.ts';
import { fieldLayout } from '../../src/scene/nerf/layout.ts';
import { marchSettings, NerfRenderer } from '../../src/render/nerf/renderer.ts';
import { objectiveReference, renderBackwardReference, renderReference, type ReferenceField } from '../../src/reference/nerf/render.ts';
import { contrastDensity, randomArray, smallConfig, views } from './fixtures.ts';

const gpu = useGpu();
const background: [number, number, number] = [0.2, 0.4, 0.6];

describe('NeRF renderer vs reference', () => {
  for (const viewDependent of [true, false]) {
    it(`forward and gradients match (view dependence ${viewDependent ? 'on' : 'off'})`, async () => {
      const g = gpu();
      const cfg = smallConfig({ viewDependent });
      const { hash, mlp } = initialFieldParams(cfg);
      const field = RadianceField.fromParams(g, cfg, hash, mlp);
      const renderer = await NerfRenderer.create(g);
      const cams = views(2, 16);
      const opts = { background, stepSize: 0.05 };
      const frame = await renderer.forward(field, cams, opts);
      const ref: ReferenceField = { layout: field.layout, hash, mlp };
      const s = marchSettings(field.layout, opts);
      const img = renderReference(ref, cams, s);
      const rgb = await g.readF32(frame.rgb);
      expectClose(rgb, img.rgb, 1e-4, 'rgb');
      expectClose(await g.readF32(frame.alpha), img.alpha, 1e-4, 'alpha');
      expectClose(await g.readF32(frame.depth), img.depth, 1e-4, 'depth');
      expectClose(await g.readF32(frame.normal), img.normal, 1e-3, 'normal');
      // The scene is not trivial: some pixels are partly covered, some nearly opaque.
      const alpha = img.alpha;
      expect(Math.min(...alpha)).toBeLessThan(0.5);
      expect(Math.max(...alpha)).toBeGreaterThan(0.5);

      const n = frame.rays;
      const cot = { rgb: randomArray(n * 3, 1), alpha: randomArray(n, 2), depth: randomArray(n, 3, -0.3, 0.3) };
      await g.run('zero', (enc) => field.zeroGrads(enc));
      await renderer.backward(frame, { rgb: g.upload('cot rgb', cot.rgb), alpha: g.upload('cot a', cot.alpha), depth: g.upload('cot d', cot.depth) });
      const grads = await field.readGrads();
      const refGrads = renderBackwardReference(ref, cams, s, cot, img);
      expectGradClose(grads.hash, refGrads.hash, 'hash gradient');
      expectGradClose(grads.mlp, refGrads.mlp, 'mlp gradient');
      // A second backward accumulates (the trainer zeroes between steps).
      await renderer.backward(frame, { rgb: g.upload('cot rgb', cot.rgb) });
      const twice = await field.readGrads();
      const rgbOnly = renderBackwardReference(ref, cams, s, { rgb: cot.rgb }, img);
      expectGradClose(twice.mlp, refGrads.mlp.map((v, i) => v + rgbOnly.mlp[i]), 'accumulated mlp gradient');
      frame.destroy();
      renderer.destroy();
      field.destroy();
    });
  }

  it('each cotangent alone gives the reference gradient (rgb, alpha, depth)', async () => {
    const g = gpu();
    const cfg = smallConfig({ seed: 11, levels: 3, hiddenWidth: 8 });
    const { hash, mlp } = initialFieldParams(cfg);
    const field = RadianceField.fromParams(g, cfg, hash, mlp);
    const cams = views(1, 12);
    const opts = { background, stepSize: 0.06 };
    const frame = await field.render(cams, opts);
    const ref: ReferenceField = { layout: field.layout, hash, mlp };
    const s = marchSettings(field.layout, opts);
    const n = frame.rays;
    for (const which of ['rgb', 'alpha', 'depth'] as const) {
      const c = randomArray(which === 'rgb' ? n * 3 : n, 20);
      await g.run('zero', (enc) => field.zeroGrads(enc));
      await field.backward(frame, { [which]: g.upload('cot', c) });
      const grads = await field.readGrads();
      const refGrads = renderBackwardReference(ref, cams, s, { [which]: c });
      expectGradClose(grads.mlp, refGrads.mlp, `${which}: mlp gradient`);
      expectGradClose(grads.hash, refGrads.hash, `${which}: hash gradient`);
    }
    frame.destroy();
    field.destroy();
  });

  it('a normal cotangent gives the reference gradient (central-difference normals, light samples skipped)', async () => {
    const g = gpu();
    const cfg = smallConfig({ seed: 12, levels: 3, hiddenWidth: 8 });
    const { hash, mlp } = initialFieldParams(cfg);
    contrastDensity(fieldLayout(cfg), mlp);
    const field = RadianceField.fromParams(g, cfg, hash, mlp);
    const cams = views(2, 8);
    const opts = { background, stepSize: 0.06 };
    const frame = await field.render(cams, opts);
    const ref: ReferenceField = { layout: field.layout, hash, mlp };
    const s = marchSettings(field.layout, opts);
    const n = frame.rays;
    const normal = randomArray(n * 3, 21);
    // Some samples are too light for a normal and some are not, so both sides skip some.
    const stats = { normalSamples: 0, skippedNormalSamples: 0 };
    const img = renderReference(ref, cams, s, stats);
    expect(stats.normalSamples).toBeGreaterThan(0);
    expect(stats.skippedNormalSamples).toBeGreaterThan(0);
    expectClose(await g.readF32(frame.normal), img.normal, 1e-3, 'normal');
    await g.run('zero', (enc) => field.zeroGrads(enc));
    await field.backward(frame, { normal: g.upload('cot normal', normal) });
    const grads = await field.readGrads();
    const refGrads = renderBackwardReference(ref, cams, s, { normal }, img);
    expectGradClose(grads.mlp, refGrads.mlp, 'normal: mlp gradient');
    expectGradClose(grads.hash, refGrads.hash, 'normal: hash gradient');
    expect(Math.max(...refGrads.mlp.map(Math.abs))).toBeGreaterThan(1e-3);
    // Together with the other outputs the contributions add.
    const rgb = randomArray(n * 3, 22);
    await g.run('zero', (enc) => field.zeroGrads(enc));
    await field.backward(frame, { rgb: g.upload('cot rgb', rgb), normal: g.upload('cot normal', normal) });
    const rgbOnly = renderBackwardReference(ref, cams, s, { rgb });
    expectGradClose((await field.readGrads()).hash, rgbOnly.hash.map((v, i) => v + refGrads.hash[i]), 'rgb + normal: hash gradient');
    frame.destroy();
    field.destroy();
  });

  it('a haze too light for normals has a zero normal image and no normal gradient', async () => {
    const g = gpu();
    const cfg = smallConfig({ seed: 12, levels: 3, hiddenWidth: 8 });
    const { hash, mlp } = initialFieldParams(cfg);
    // Every sample's compositing weight falls below 1e-4 (about 1e-5), so none gets a normal,
    // in the forward or the backward (either one computing them would show here).
    mlp[fieldLayout(cfg).offsets.bSigma] -= 9;
    const field = RadianceField.fromParams(g, cfg, hash, mlp);
    const frame = await field.render(views(2, 8), { background, stepSize: 0.06 });
    expect(Math.max(...(await g.readF32(frame.alpha)))).toBeGreaterThan(1e-4);
    expect(Math.max(...(await g.readF32(frame.normal)).map(Math.abs))).toBe(0);
    await g.run('zero', (enc) => field.zeroGrads(enc));
    await field.backward(frame, { normal: g.upload('cot normal', randomArray(frame.rays * 3, 23)) });
    const grads = await field.readGrads();
    expect(Math.max(...grads.hash.map(Math.abs), ...grads.mlp.map(Math.abs))).toBe(0);
    frame.destroy();
    field.destroy();
  });
});

describe('NeRF reference gradients vs central finite differences (f64)', () => {
  for (const which of ['rgb, alpha and depth', 'the normal'] as const) {
    it(`matches for parameters of every block (cotangents of ${which})`, () => {
      const cfg = smallConfig({ seed: 5, levels: 3, hiddenWidth: 8 });
      const layout = fieldLayout(cfg);
      const init = initialFieldParams(cfg, layout);
      const hash = Float64Array.from(init.hash);
      const mlp = Float64Array.from(init.mlp);
      if (which === 'the normal') contrastDensity(layout, mlp);
      const size = which === 'the normal' ? 6 : 8;
      const cams = views(1, size);
      // Normals only where they are differentiated (the forward normal costs four field evaluations per sample).
      const s = marchSettings(layout, { background, stepSize: 0.07, normals: which === 'the normal' });
      const n = size * size;
      const normal = randomArray(n * 3, 7);
      const cot = which === 'the normal' ? { normal } : { rgb: randomArray(n * 3, 4), alpha: randomArray(n, 5), depth: randomArray(n, 6, -0.3, 0.3) };
      const field: ReferenceField = { layout, hash, mlp };
      const stats = { normalSamples: 0, skippedNormalSamples: 0 };
      const grads = renderBackwardReference(field, cams, s, cot, renderReference(field, cams, s, stats));
      // The differentiated normal skips some light samples and keeps others.
      if (s.normals) expect(Math.min(stats.normalSamples, stats.skippedNormalSamples)).toBeGreaterThan(10);
      const o = layout.offsets;
      // The hash entries with the largest gradients (most entries are never touched).
      const hashPicks = Array.from(grads.hash.keys()).sort((a, b) => Math.abs(grads.hash[b]) - Math.abs(grads.hash[a])).slice(0, 6);
      // The normal sees no colour: its colour-head gradients are zero (and so are the differences).
      const mlpPicks = [o.w1, o.w1 + 5, o.b1 + 1, o.wSigma + 2, o.bSigma, o.wColour + 1, o.wColour + layout.hidden + 2, o.bColour + 2];
      const objective = () => objectiveReference(field, cams, s, cot);
      const fd = [...finiteDifferences(objective, hash, hashPicks, 1e-5), ...finiteDifferences(objective, mlp, mlpPicks, 1e-5)];
      const analytic = [...hashPicks.map((i) => grads.hash[i]), ...mlpPicks.map((i) => grads.mlp[i])];
      fd.forEach((d, k) => expect(Math.abs(d - analytic[k]), `pick ${k}: fd ${d} analytic ${analytic[k]}`).toBeLessThan(1e-5 + 1e-4 * Math.abs(d)));
      expect(fd.filter((d) => Math.abs(d) > 1e-3).length).toBeGreaterThanOrEqual(which === 'the normal' ? 8 : 10);
    });
  }
});
