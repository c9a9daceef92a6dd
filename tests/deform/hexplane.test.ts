import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/train/rng.ts';
import { HexPlaneField, initialHexPlaneState } from '../../src/scene/deform/hexplane-field.ts';
import { DEFAULT_HEXPLANE, hexPlaneLayout, type HexPlaneConfig } from '../../src/scene/deform/hexplane-layout.ts';
import type { HexPlaneState } from '../../src/scene/deform/deformation-field.ts';
import { evaluateState } from '../../src/scene/deform/evaluate-state.ts';
import { hexPlaneBackwardRef, hexPlaneOffsetsRef } from '../../src/reference/deform/hexplane.ts';
import { applyOffsetsRef, offsetCotangentsRef } from '../../src/reference/deform/apply-offsets.ts';
import { expectClose, expectGradClose, finiteDifferences } from '../helpers/compare.ts';
import { useGpu } from '../helpers/gpu.ts';
import { dot, pick, randomArray, randomScene, uploadScene, zeroGrads } from './fixtures.ts';

const gpu = useGpu();

const config: HexPlaneConfig = {
  ...DEFAULT_HEXPLANE,
  boundsMin: [-1, -1, -1],
  boundsMax: [1, 1, 1],
  timeRange: [0, 2],
  resolutions: [4, 6],
  timeResolution: 5,
  features: 3,
  hidden: 8,
  opacityHead: true,
  colorHead: true,
};

/** A trained-looking state: every plane (time planes included) and every weight random. */
function randomState(seed: number): HexPlaneState {
  const L = hexPlaneLayout(config);
  const rng = new Rng(seed);
  return { kind: 'hexplane', config, planes: randomArray(rng, L.planeFloats, 0.3, 1.3), mlp: randomArray(rng, L.mlpFloats, -0.6, 0.6) };
}

describe('HexPlaneField', () => {
  it('starts static: offsets exactly zero and deformed splats equal to the canonical ones at every time', async () => {
    const g = gpu();
    const scene = randomScene(1, 40, 1);
    const canonical = uploadScene(g, scene);
    const field = await HexPlaneField.create(g, { ...config, resolutions: [8, 16] }, 7);
    for (const t of [0, 0.5, 1.3, 2, 3.5]) {
      const enc = g.device.createCommandEncoder();
      const frame = field.forward(enc, t, canonical);
      await g.submit('fwd', enc);
      const offsets = await g.readF32(frame.offsets);
      expect(offsets.every((v) => v === 0), `offsets at t=${t}`).toBe(true);
      expect(Array.from(await g.readF32(frame.means))).toEqual(Array.from(scene.means));
      expect(Array.from(await g.readF32(frame.quats))).toEqual(Array.from(scene.quats));
      expect(Array.from(await g.readF32(frame.sh!))).toEqual(Array.from(scene.sh));
      frame.destroy();
    }
    // Static, but not dead: the time planes are one and the spatial ones in [0.1, 0.5].
    const state = await field.toState();
    expect(state.planes.some((v) => v > 0.1 && v < 0.5)).toBe(true);
    field.destroy();
  });

  it('forward matches the reference (offsets and deformed splats, clamped outside the bounds)', async () => {
    const g = gpu();
    const scene = randomScene(2, 70, 1);
    const canonical = uploadScene(g, scene);
    const state = randomState(3);
    const field = await HexPlaneField.fromStateOn(g, state);
    for (const t of [0.37, 1.999, -0.5]) {
      const enc = g.device.createCommandEncoder();
      const frame = field.forward(enc, t, canonical);
      await g.submit('fwd', enc);
      const ref = hexPlaneOffsetsRef(config, state.planes, state.mlp, scene.means, t);
      expect(Math.max(...ref.map(Math.abs)), 'offsets are not trivially small').toBeGreaterThan(0.1);
      expectClose(await g.readF32(frame.offsets), ref, 1e-4, `offsets t=${t}`);
      const deformed = applyOffsetsRef(scene, ref, { opacity: true, color: true });
      expectClose(await g.readF32(frame.means), deformed.means, 1e-4, 'means');
      expectClose(await g.readF32(frame.quats), deformed.quats, 1e-4, 'quats');
      expectClose(await g.readF32(frame.logScales), deformed.logScales, 1e-4, 'logScales');
      expectClose(await g.readF32(frame.opacityLogits!), deformed.opacityLogits, 1e-4, 'opacity');
      expectClose(await g.readF32(frame.sh!), deformed.sh, 1e-4, 'sh');
      frame.destroy();
    }
    field.destroy();
  });

  it('backward matches the reference for the field and the canonical splats', async () => {
    const g = gpu();
    const scene = randomScene(4, 300, 1);
    const canonical = uploadScene(g, scene);
    const grads = zeroGrads(g, scene);
    const state = randomState(5);
    const field = await HexPlaneField.fromStateOn(g, state);
    const rng = new Rng(6);
    const cot = {
      means: randomArray(rng, scene.means.length, -1, 1),
      quats: randomArray(rng, scene.quats.length, -1, 1),
      logScales: randomArray(rng, scene.logScales.length, -1, 1),
      opacityLogits: randomArray(rng, scene.count, -1, 1),
      sh: randomArray(rng, scene.sh.length, -1, 1),
    };
    const t = 0.8;
    const enc = g.device.createCommandEncoder();
    field.zeroGrads(enc);
    const frame = field.forward(enc, t, canonical);
    const cotB = {
      means: g.upload('c.means', cot.means),
      quats: g.upload('c.quats', cot.quats),
      logScales: g.upload('c.scales', cot.logScales),
      opacityLogits: g.upload('c.opacity', cot.opacityLogits),
      sh: g.upload('c.sh', cot.sh),
    };
    field.backward(enc, frame, canonical, cotB, grads);
    await g.submit('fwd+bwd', enc);

    const dOff = offsetCotangentsRef(scene.count, 1, cot, { opacity: true, color: true });
    const ref = hexPlaneBackwardRef(config, state.planes, state.mlp, scene.means, t, dOff);
    expectGradClose(await g.readF32(field.planesGrad), ref.planes, 'planes');
    expectGradClose(await g.readF32(field.mlpGrad), ref.mlp, 'mlp');
    const refMeans = ref.means.map((v, i) => v + cot.means[i]);
    expectGradClose(await g.readF32(grads.means), refMeans, 'canonical means');
    // The Jacobian term is real, not lost in the identity part.
    const jac = (await g.readF32(grads.means)).map((v, i) => v - cot.means[i]);
    expectGradClose(jac, ref.means, 'canonical means (offset Jacobian only)', 2e-2, 0.999);
    expectClose(await g.readF32(grads.quats), cot.quats, 1e-6, 'canonical quats');
    expectClose(await g.readF32(grads.sh), cot.sh, 1e-6, 'canonical sh');
    expectClose(await g.readF32(grads.opacityLogits), cot.opacityLogits, 1e-6, 'canonical opacity');
    frame.destroy();
    field.destroy();
  });

  it('reference gradients match central finite differences (f64)', () => {
    const scene = randomScene(8, 12, 0);
    const s = randomState(9);
    const planes = Float64Array.from(s.planes);
    const mlp = Float64Array.from(s.mlp);
    const means = Float64Array.from(scene.means);
    const rng = new Rng(10);
    const dOff = Float64Array.from(randomArray(rng, scene.count * 14, -1, 1));
    const t = 1.21;
    const J = () => dot(dOff, hexPlaneOffsetsRef(config, planes, mlp, means, t));
    const ref = hexPlaneBackwardRef(config, planes, mlp, means, t, dOff);
    const touched = Array.from(ref.planes.keys()).filter((i) => ref.planes[i] !== 0);
    expect(touched.length).toBeGreaterThan(50);
    const pIdx = touched.filter((_, k) => k % 7 === 0);
    expectGradClose(finiteDifferences(J, planes, pIdx), pick(ref.planes, pIdx), 'planes vs FD');
    const mIdx = Array.from(mlp.keys());
    expectGradClose(finiteDifferences(J, mlp, mIdx), ref.mlp, 'mlp vs FD');
    // Some means lie outside the bounds: clamped there, with no Jacobian, which FD agrees with.
    const xIdx = Array.from(means.keys());
    expectGradClose(finiteDifferences(J, means, xIdx), ref.means, 'means vs FD');
  });

  it('round-trips its state and evaluates any time on the CPU like the GPU', async () => {
    const g = gpu();
    const scene = randomScene(11, 30, 1);
    const state = randomState(12);
    const field = await HexPlaneField.create(g, config, 1);
    field.fromState(state);
    const back = await field.toState();
    expect(Array.from(back.planes)).toEqual(Array.from(state.planes));
    expect(Array.from(back.mlp)).toEqual(Array.from(state.mlp));
    const cpu = await field.evaluateCpu(1.5, scene);
    const enc = g.device.createCommandEncoder();
    const frame = field.forward(enc, 1.5, uploadScene(g, scene));
    await g.submit('fwd', enc);
    expectClose(await g.readF32(frame.means), cpu.means, 1e-4, 'means');
    expectClose(evaluateState(back, 1.5, scene).quats, cpu.quats, 0, 'quats');
    expect(() => field.fromState({ ...state, planes: state.planes.subarray(1) })).toThrow(/plane/);
    expect(() => initialHexPlaneState({ ...config, resolutions: [1] }, 0)).toThrow(/resolutions/);
    frame.destroy();
    field.destroy();
  });
});
