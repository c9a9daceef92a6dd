import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/train/rng.ts';
import { TrajectoryField } from '../../src/scene/deform/trajectory-field.ts';
import type { TrajectoryConfig, TrajectoryState } from '../../src/scene/deform/deformation-field.ts';
import { basisSize, trajectoryBackwardRef, trajectoryOffsetsRef } from '../../src/reference/deform/trajectory.ts';
import { applyOffsetsRef, offsetCotangentsRef } from '../../src/reference/deform/apply-offsets.ts';
import { expectClose, expectGradClose, finiteDifferences } from '../helpers/compare.ts';
import { useGpu } from '../helpers/gpu.ts';
import { dot, randomArray, randomScene, uploadScene, zeroGrads } from './fixtures.ts';

const gpu = useGpu();
const config: TrajectoryConfig = { timeRange: [0, 2], degree: 3, frequencies: 2, rotation: true, lr: 1e-2 };

function randomState(seed: number, count: number): TrajectoryState {
  const rng = new Rng(seed);
  const B = basisSize(config);
  return { kind: 'trajectory', config, count, position: randomArray(rng, count * B * 3, -1, 1), rotation: randomArray(rng, count * B * 4, -1, 1) };
}

describe('TrajectoryField', () => {
  it('is the identity with zero coefficients at every time, and at t0 whatever the coefficients', async () => {
    const g = gpu();
    const scene = randomScene(1, 50, 1);
    const canonical = uploadScene(g, scene);
    const field = await TrajectoryField.create(g, scene.count, config);
    for (const t of [0, 0.7, 2]) {
      const enc = g.device.createCommandEncoder();
      const frame = field.forward(enc, t, canonical);
      await g.submit('fwd', enc);
      expect(Array.from(await g.readF32(frame.means))).toEqual(Array.from(scene.means));
      expect(Array.from(await g.readF32(frame.quats))).toEqual(Array.from(scene.quats));
      frame.destroy();
    }
    field.fromState(randomState(2, scene.count));
    const enc = g.device.createCommandEncoder();
    const frame = field.forward(enc, 0, canonical);
    await g.submit('fwd', enc);
    expectClose(await g.readF32(frame.means), scene.means, 1e-6, 'means at t0');
    frame.destroy();
    field.destroy();
  });

  it('forward and backward match the reference; the reference matches finite differences', async () => {
    const g = gpu();
    const scene = randomScene(3, 200, 0);
    const canonical = uploadScene(g, scene);
    const grads = zeroGrads(g, scene);
    const state = randomState(4, scene.count);
    const field = await TrajectoryField.fromStateOn(g, state);
    const rng = new Rng(5);
    const cot = { means: randomArray(rng, scene.count * 3, -1, 1), quats: randomArray(rng, scene.count * 4, -1, 1) };
    const t = 1.37;
    const enc = g.device.createCommandEncoder();
    field.zeroGrads(enc);
    const frame = field.forward(enc, t, canonical);
    field.backward(enc, frame, canonical, { means: g.upload('c.m', cot.means), quats: g.upload('c.q', cot.quats) }, grads);
    await g.submit('fwd+bwd', enc);

    const off = trajectoryOffsetsRef(config, scene.count, state.position, state.rotation, t);
    const deformed = applyOffsetsRef(scene, off, { opacity: false, color: false });
    expectClose(await g.readF32(frame.means), deformed.means, 1e-4, 'means');
    expectClose(await g.readF32(frame.quats), deformed.quats, 1e-4, 'quats');
    const dOff = offsetCotangentsRef(scene.count, 0, cot, { opacity: false, color: false });
    const ref = trajectoryBackwardRef(config, scene.count, t, dOff, true);
    expectGradClose(await g.readF32(field.positionGrad), ref.position, 'position coefficients');
    expectGradClose(await g.readF32(field.rotationGrad), ref.rotation!, 'rotation coefficients');
    expectClose(await g.readF32(grads.means), cot.means, 1e-6, 'canonical means');
    expectClose(await g.readF32(grads.quats), cot.quats, 1e-6, 'canonical quats');
    const cpu = await field.evaluateCpu(t, scene);
    expectClose(cpu.means, deformed.means, 1e-5, 'evaluateCpu means');
    expectClose(cpu.quats, deformed.quats, 1e-5, 'evaluateCpu quats');

    const pos = Float64Array.from(state.position.subarray(0, 5 * basisSize(config) * 3));
    const rot = Float64Array.from(state.rotation!.subarray(0, 5 * basisSize(config) * 4));
    const J = () => dot(dOff.subarray(0, 5 * 14), trajectoryOffsetsRef(config, 5, pos, rot, t));
    const small = trajectoryBackwardRef(config, 5, t, dOff.subarray(0, 5 * 14), true);
    expectGradClose(finiteDifferences(J, pos, Array.from(pos.keys())), small.position, 'position vs FD');
    expectGradClose(finiteDifferences(J, rot, Array.from(rot.keys())), small.rotation!, 'rotation vs FD');
    frame.destroy();
    field.destroy();
  });
});
