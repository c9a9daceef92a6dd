// DeformedSplatRepresentation: the images match the reference renderer on the deformed splats,
// the gradients of a scalar image loss through the whole chain (field -> deformed splats ->
// renderer) match central finite differences of the f64 reference chain, and freezing works.
import { describe, expect, it } from 'vitest';
import type { Gpu } from '../../src/gpu/gpu.ts';
import type { Camera } from '../../src/math/camera.ts';
import { referenceRender } from '../../src/reference/splat/render.ts';
import { basisSize } from '../../src/reference/deform/trajectory.ts';
import type { GaussianData } from '../../src/scene/gaussian-data.ts';
import type { DeformationField, DeformationState, HexPlaneState, TrajectoryState } from '../../src/scene/deform/deformation-field.ts';
import { evaluateState } from '../../src/scene/deform/evaluate-state.ts';
import { HexPlaneField, initialHexPlaneState } from '../../src/scene/deform/hexplane-field.ts';
import { DEFAULT_HEXPLANE, hexPlaneLayout } from '../../src/scene/deform/hexplane-layout.ts';
import { TrajectoryField } from '../../src/scene/deform/trajectory-field.ts';
import { Adam } from '../../src/train/adam.ts';
import { DeformedSplatRepresentation } from '../../src/train/deformed-representation.ts';
import { SPLAT_BLOCK_NAMES } from '../../src/train/splat-blocks.ts';
import { useGpu } from '../helpers/gpu.ts';
import { cosine, expectClose, expectGradClose, finiteDifferences, relL2 } from '../helpers/compare.ts';
import { cameras as orbitCameras, randomArray, smallScene, toF64 } from '../render/scenes.ts';

const gpu = useGpu();
const W = 16;
const H = 16;
const LR = { means: 1e-2, logScales: 1e-2, quats: 1e-2, opacityLogits: 1e-2, sh: 1e-2 };

/** Three views at two times, interleaved so that the batch must be split and gathered back. */
function batch(): Camera[] {
  const cams = orbitCameras(3, W, H, 3);
  [0.3, 0.8, 0.3].forEach((t, i) => (cams[i].time = t));
  return cams;
}

function trajectoryState(count: number): TrajectoryState {
  const config = { timeRange: [0, 1] as [number, number], degree: 1, frequencies: 1, rotation: true, lr: 1e-2 };
  const B = basisSize(config);
  return { kind: 'trajectory', config, count, position: randomArray(count * B * 3, 5).map((v) => 0.3 * v), rotation: randomArray(count * B * 4, 6).map((v) => 0.2 * v) };
}

function hexPlaneState(): HexPlaneState {
  const state = initialHexPlaneState(
    { ...DEFAULT_HEXPLANE, boundsMin: [-1, -1, -1], boundsMax: [1, 1, 1], resolutions: [3], timeResolution: 3, features: 2, hidden: 4, lrPlanes: 1e-2, lrMlp: 1e-2 },
    4,
  );
  // Move the time planes off 1 and the output layer off 0, so that the field deforms.
  const L = hexPlaneLayout(state.config);
  randomArray(state.planes.length, 7).forEach((v, i) => (state.planes[i] *= 1 + 0.3 * v));
  randomArray(L.mlpFloats - L.w2, 8).forEach((v, i) => (state.mlp[L.w2 + i] = 0.2 * v));
  return state;
}

async function makeField(g: Gpu, state: DeformationState): Promise<DeformationField> {
  return state.kind === 'hexplane' ? HexPlaneField.fromStateOn(g, structuredClone(state)) : TrajectoryField.fromStateOn(g, structuredClone(state));
}

/** The loss sum(w * rgb) + sum(v * alpha) through the f64 reference chain. */
function referenceLoss(state: DeformationState, canonical: GaussianData, cams: Camera[], w: Float32Array, v: Float32Array): number {
  let loss = 0;
  cams.forEach((cam, k) => {
    const img = referenceRender(evaluateState(state, cam.time ?? 0, canonical), [cam]);
    for (let i = 0; i < W * H * 3; i++) loss += w[k * W * H * 3 + i] * img.rgb[i];
    for (let i = 0; i < W * H; i++) loss += v[k * W * H + i] * img.alpha[i];
  });
  return loss;
}

function fieldArrays(state: DeformationState): Record<string, Float32Array> {
  if (state.kind === 'hexplane') return { 'deform.planes': state.planes, 'deform.mlp': state.mlp };
  return { 'deform.trajectory.position': state.position, 'deform.trajectory.rotation': state.rotation! };
}

async function gradients(g: Gpu, rep: DeformedSplatRepresentation, cams: Camera[], w: Float32Array, v: Float32Array): Promise<Record<string, Float32Array>> {
  await g.run('zero', (enc) => rep.zeroGrads(enc));
  const frame = await rep.render(cams);
  const rgbCot = g.upload('w', w);
  const alphaCot = g.upload('v', v);
  await rep.backward(frame, { rgb: rgbCot, alpha: alphaCot });
  frame.destroy();
  rgbCot.destroy();
  alphaCot.destroy();
  const out: Record<string, Float32Array> = {};
  for (const name of SPLAT_BLOCK_NAMES) out[name] = await g.readF32(rep.grads[name], rep.grads[name].size / 4);
  for (const block of rep.field.params()) out[block.name] = await g.readF32(block.grad, block.count);
  return out;
}

for (const kind of ['trajectory', 'hexplane'] as const) {
  describe(`DeformedSplatRepresentation with a ${kind} field`, () => {
    const canonical = smallScene(4, 1, kind === 'hexplane' ? 21 : 22);
    const state = kind === 'hexplane' ? hexPlaneState() : trajectoryState(canonical.count);
    const cams = batch();
    const w = randomArray(3 * W * H * 3, 31);
    const v = randomArray(3 * W * H, 32);

    it('renders each camera at its own time, as the reference renders the deformed splats', async () => {
      const g = gpu();
      const rep = await DeformedSplatRepresentation.create(g, canonical, await makeField(g, state), { learningRates: LR });
      const frame = await rep.render(cams);
      expect(frame.views).toBe(3);
      const rgb = await g.readF32(frame.rgb, 3 * W * H * 3);
      const alpha = await g.readF32(frame.alpha, 3 * W * H);
      const want = cams.map((c) => referenceRender(evaluateState(state, c.time!, canonical), [c]));
      want.forEach((img, k) => {
        expectClose(rgb.subarray(k * W * H * 3, (k + 1) * W * H * 3), img.rgb, 1e-4, `view ${k} rgb`);
        expectClose(alpha.subarray(k * W * H, (k + 1) * W * H), img.alpha, 1e-4, `view ${k} alpha`);
      });
      // Views 0 and 2 see the same time from different cameras; the deformation is visible.
      const still = referenceRender(canonical, [cams[1]]);
      let moved = 0;
      for (let i = 0; i < still.rgb.length; i++) moved = Math.max(moved, Math.abs(still.rgb[i] - want[1].rgb[i]));
      expect(moved).toBeGreaterThan(0.02);
      frame.destroy();
      rep.destroy();
    });

    it('gradients of an image loss match central differences of the reference chain', async () => {
      const g = gpu();
      const rep = await DeformedSplatRepresentation.create(g, canonical, await makeField(g, state), { learningRates: LR });
      const got = await gradients(g, rep, cams, w, v);
      const c64 = toF64(canonical);
      const s64 = structuredClone(state);
      const arrays64: Record<string, Float64Array> = {};
      for (const [name, a] of Object.entries(fieldArrays(s64))) {
        const f64 = Float64Array.from(a);
        arrays64[name] = f64;
        if (s64.kind === 'hexplane') (s64 as unknown as Record<string, unknown>)[name === 'deform.planes' ? 'planes' : 'mlp'] = f64;
        else (s64 as unknown as Record<string, unknown>)[name.endsWith('position') ? 'position' : 'rotation'] = f64;
      }
      for (const name of SPLAT_BLOCK_NAMES) arrays64[name] = c64[name] as unknown as Float64Array;
      const loss = () => referenceLoss(s64, c64, cams, w, v);
      const report: string[] = [];
      for (const [name, x] of Object.entries(arrays64)) {
        const fd = finiteDifferences(loss, x, Array.from(x.keys()));
        report.push(`${name} relL2 ${relL2(got[name], fd).toExponential(1)} cos ${cosine(got[name], fd).toFixed(5)}`);
        expect(Math.max(...fd.map(Math.abs)), `${name}: the loss depends on it`).toBeGreaterThan(1e-3);
        expectGradClose(got[name], fd, `${kind} ${name}`);
      }
      console.log(`${kind} chain gradients vs finite differences: ${report.join('; ')}`);
      rep.destroy();
    });

    it('freezing leaves blocks out of params(), canonical grads at zero, and Adam moves only what trains', async () => {
      const g = gpu();
      const rep = await DeformedSplatRepresentation.create(g, canonical, await makeField(g, state), { learningRates: LR, freeze: { canonical: true } });
      const fieldNames = rep.field.params().map((b) => b.name);
      expect(rep.params().map((b) => b.name)).toEqual(fieldNames);
      const joint = await gradients(g, rep, cams, w, v);
      for (const name of SPLAT_BLOCK_NAMES) expect(joint[name].every((x) => x === 0), `${name} stays zero`).toBe(true);
      expect(joint[fieldNames[0]].some((x) => x !== 0)).toBe(true);
      const adam = await Adam.create(g, rep.params());
      const before = await rep.cloud.toData();
      const fieldBefore = await rep.field.toState();
      await g.run('step', (enc) => adam.step(enc));
      expect(await rep.cloud.toData()).toEqual(before);
      expect(await rep.field.toState()).not.toEqual(fieldBefore);
      adam.destroy();

      // Static stage: the field frozen, the canonical splats train and still get their gradients.
      rep.setFrozen({ canonical: false, field: true });
      expect(rep.params().map((b) => b.name)).toEqual([...SPLAT_BLOCK_NAMES]);
      const canonicalOnly = await gradients(g, rep, cams, w, v);
      expect(canonicalOnly.means.some((x) => x !== 0)).toBe(true);
      const adam2 = await Adam.create(g, rep.params());
      const fieldState = await rep.field.toState();
      await g.run('step', (enc) => adam2.step(enc));
      expect(await rep.field.toState()).toEqual(fieldState);
      expect(await rep.cloud.toData()).not.toEqual(before);
      // Densification statistics accumulate per canonical splat across times.
      const visible = await g.readF32(rep.densifyStats.visibleCount, canonical.count);
      expect(visible.some((x) => x > 0)).toBe(true);
      adam2.destroy();
      rep.destroy();
    });
  });
}
