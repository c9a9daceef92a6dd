import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/train/rng.ts';
import { DeformRegularisers, uploadNeighbourhood } from '../../src/scene/deform/regularisers.ts';
import { nearestNeighbours } from '../../src/scene/deform/knn.ts';
import { HexPlaneField } from '../../src/scene/deform/hexplane-field.ts';
import { TrajectoryField } from '../../src/scene/deform/trajectory-field.ts';
import { hexPlaneLayout } from '../../src/scene/deform/hexplane-layout.ts';
import type { TrajectoryConfig } from '../../src/scene/deform/deformation-field.ts';
import { planeTVRef, rigidityRef, temporalSmoothnessRef } from '../../src/reference/deform/regularisers.ts';
import { basisSize, trajectoryBackwardRef, trajectoryOffsetsRef } from '../../src/reference/deform/trajectory.ts';
import { applyOffsetsRef, offsetCotangentsRef } from '../../src/reference/deform/apply-offsets.ts';
import { expectGradClose, finiteDifferences } from '../helpers/compare.ts';
import { useGpu } from '../helpers/gpu.ts';
import { pick, randomArray, randomScene, uploadScene } from './fixtures.ts';

const gpu = useGpu();
const traj: TrajectoryConfig = { timeRange: [0, 1], degree: 2, frequencies: 1, rotation: false, lr: 1e-2 };

function relClose(actual: number, expected: number, tol = 1e-4) {
  expect(Math.abs(actual - expected), `${actual} vs ${expected}`).toBeLessThan(tol * Math.abs(expected) + 1e-7);
}

describe('deformation regularisers', () => {
  it('k nearest neighbours on the grid match brute force', () => {
    const pts = randomArray(new Rng(1), 3 * 400, -2, 2);
    const nb = nearestNeighbours(pts, 6);
    let mismatches = 0;
    for (let i = 0; i < 400; i++) {
      const d = Array.from({ length: 400 }, (_, j) => [j, (pts[3 * j] - pts[3 * i]) ** 2 + (pts[3 * j + 1] - pts[3 * i + 1]) ** 2 + (pts[3 * j + 2] - pts[3 * i + 2]) ** 2]);
      const best = d.filter(([j]) => j !== i).sort((a, b) => a[1] - b[1]).slice(0, 6).map(([j]) => j);
      if (best.join() !== Array.from(nb.indices.subarray(i * 6, i * 6 + 6)).join()) mismatches++;
    }
    expect(mismatches).toBe(0);
    expect(nb.weights.every((w) => w > 0 && w <= 1)).toBe(true);
  });

  it('temporal smoothness: trajectory-field gradients match the reference; the reference matches FD', async () => {
    const g = gpu();
    const scene = randomScene(2, 150, 0);
    const canonical = uploadScene(g, scene);
    const B = basisSize(traj);
    const coef = randomArray(new Rng(3), scene.count * B * 3, -1, 1);
    const field = await TrajectoryField.fromStateOn(g, { kind: 'trajectory', config: traj, count: scene.count, position: coef, rotation: null });
    const regs = await DeformRegularisers.create(g);
    const [t, dt, weight] = [0.4, 0.1, 3];
    await g.run('zero', (enc) => field.zeroGrads(enc));
    const loss = await regs.temporalSmoothness(field, canonical, {}, t, dt, weight);

    const means = [t - dt, t, t + dt].map((tk) => applyOffsetsRef(scene, trajectoryOffsetsRef(traj, scene.count, coef, null, tk), { opacity: false, color: false }).means);
    const ref = temporalSmoothnessRef(means[0], means[1], means[2]);
    relClose(loss, weight * ref.loss);
    const expected = new Float64Array(coef.length);
    [ref.dPrev, ref.dCur, ref.dNext].forEach((d, k) => {
      const dOff = offsetCotangentsRef(scene.count, 0, { means: d.map((v) => v * weight) }, { opacity: false, color: false });
      trajectoryBackwardRef(traj, scene.count, t + (k - 1) * dt, dOff, false).position.forEach((v, i) => (expected[i] += v));
    });
    expectGradClose(await g.readF32(field.positionGrad), expected, 'trajectory grads of smoothness');

    const x = [0, 1, 2].map((k) => Float64Array.from(means[k].subarray(0, 30)));
    const r = temporalSmoothnessRef(x[0], x[1], x[2]);
    const idx = Array.from(x[1].keys());
    for (const [k, d] of [r.dPrev, r.dCur, r.dNext].entries())
      expectGradClose(finiteDifferences(() => temporalSmoothnessRef(x[0], x[1], x[2]).loss, x[k], idx), d, `smoothness FD frame ${k}`);
    field.destroy();
  });

  it('plane TV: GPU loss and gradient match the reference; the reference matches FD', async () => {
    const g = gpu();
    const field = await HexPlaneField.create(g, { boundsMin: [-1, -1, -1], boundsMax: [1, 1, 1], resolutions: [4, 7], timeResolution: 5, features: 2, hidden: 4 }, 4);
    const planes = randomArray(new Rng(5), field.layout.planeFloats, -1, 1);
    g.write(field.planes, planes);
    const regs = await DeformRegularisers.create(g);
    await g.run('zero', (enc) => field.zeroGrads(enc));
    const loss = await regs.planeTV(field, 0.5);
    const ref = planeTVRef(hexPlaneLayout(field.config), planes);
    relClose(loss, 0.5 * ref.loss);
    expectGradClose(await g.readF32(field.planesGrad), ref.grad.map((v) => 0.5 * v), 'plane TV grad');
    const x = Float64Array.from(planes);
    const idx = Array.from(x.keys()).filter((i) => i % 5 === 0);
    expectGradClose(finiteDifferences(() => planeTVRef(field.layout, x).loss, x, idx), pick(ref.grad, idx), 'plane TV FD');
    field.destroy();
  });

  it('rigidity: GPU loss and field gradients match the reference; the reference matches FD', async () => {
    const g = gpu();
    const scene = randomScene(6, 120, 0);
    const canonical = uploadScene(g, scene);
    const B = basisSize(traj);
    const coef = randomArray(new Rng(7), scene.count * B * 3, -0.3, 0.3);
    const field = await TrajectoryField.fromStateOn(g, { kind: 'trajectory', config: traj, count: scene.count, position: coef, rotation: null });
    const nbCpu = nearestNeighbours(scene.means, 5);
    const nb = uploadNeighbourhood(g, nbCpu);
    const regs = await DeformRegularisers.create(g);
    await g.run('zero', (enc) => field.zeroGrads(enc));
    const t = 0.6;
    const loss = await regs.rigidity(field, canonical, {}, t, nb, 2);
    const deformed = applyOffsetsRef(scene, trajectoryOffsetsRef(traj, scene.count, coef, null, t), { opacity: false, color: false }).means;
    const ref = rigidityRef(scene.means, deformed, nbCpu.indices, nbCpu.weights, 5);
    expect(ref.loss).toBeGreaterThan(1e-3);
    relClose(loss, 2 * ref.loss, 1e-3);
    const dOff = offsetCotangentsRef(scene.count, 0, { means: ref.grad.map((v) => 2 * v) }, { opacity: false, color: false });
    expectGradClose(await g.readF32(field.positionGrad), trajectoryBackwardRef(traj, scene.count, t, dOff, false).position, 'rigidity grads');
    const x = Float64Array.from(deformed);
    expectGradClose(
      finiteDifferences(() => rigidityRef(scene.means, x, nbCpu.indices, nbCpu.weights, 5).loss, x, Array.from(x.keys())),
      ref.grad,
      'rigidity FD',
    );
    // A rigid motion (rotation about y plus a shift) costs nothing.
    const rigid = new Float64Array(scene.means.length);
    for (let i = 0; i < scene.count; i++) {
      const [px, py, pz] = [scene.means[3 * i], scene.means[3 * i + 1], scene.means[3 * i + 2]];
      rigid.set([Math.cos(0.7) * px + Math.sin(0.7) * pz + 0.3, py - 0.2, -Math.sin(0.7) * px + Math.cos(0.7) * pz], 3 * i);
    }
    expect(rigidityRef(scene.means, rigid, nbCpu.indices, nbCpu.weights, 5).loss).toBeLessThan(1e-12);
    nb.destroy();
    field.destroy();
  });
});
