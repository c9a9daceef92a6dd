// What the representations give the rewards as "the splats that made the frame": the static
// cloud, the 4D splats deformed to the frame's time when its cameras share one, and nothing
// for a 4D batch at several times (no one set made all its views).
import { describe, expect, it } from 'vitest';
import { useGpu } from '../helpers/gpu.ts';
import { expectClose } from '../helpers/compare.ts';
import { basisSize } from '../../src/reference/deform/trajectory.ts';
import { evaluateState } from '../../src/scene/deform/evaluate-state.ts';
import type { TrajectoryState } from '../../src/scene/deform/deformation-field.ts';
import { TrajectoryField } from '../../src/scene/deform/trajectory-field.ts';
import { DeformedSplatRepresentation } from '../../src/train/deformed-representation.ts';
import { SplatRepresentation } from '../../src/train/splat-representation.ts';
import { cameras, randomArray, smallScene } from '../render/scenes.ts';

const gpu = useGpu();
const LR = { means: 1e-2, logScales: 1e-2, quats: 1e-2, opacityLogits: 1e-2, sh: 1e-2 };

describe('Representation.rewardSplats', () => {
  const canonical = smallScene(6, 0, 41);

  it('static splats: the current cloud', async () => {
    const rep = await SplatRepresentation.create(gpu(), canonical, LR);
    const frame = await rep.render(cameras(2, 12, 12));
    const s = rep.rewardSplats()!;
    expect(s.count).toBe(6);
    expectClose(await gpu().readF32(s.means, 18), canonical.means, 0, 'means');
    expectClose(await gpu().readF32(s.opacityLogits, 6), canonical.opacityLogits, 0, 'opacity');
    frame.destroy();
    rep.destroy();
  });

  it('4D: the splats deformed to the time of a single-time frame; none for several times', async () => {
    const config = { timeRange: [0, 1] as [number, number], degree: 1, frequencies: 1, rotation: false, lr: 1e-2 };
    const state: TrajectoryState = { kind: 'trajectory', config, count: 6, position: randomArray(6 * basisSize(config) * 3, 5).map((v) => 0.3 * v), rotation: null };
    const rep = await DeformedSplatRepresentation.create(gpu(), canonical, await TrajectoryField.fromStateOn(gpu(), structuredClone(state)), { learningRates: LR });
    const cams = cameras(2, 12, 12);
    cams.forEach((c) => (c.time = 0.7));
    const frame = await rep.render(cams);
    const s = rep.rewardSplats(frame)!;
    const want = evaluateState(state, 0.7, canonical);
    const means = await gpu().readF32(s.means, 18);
    expectClose(means, want.means, 1e-5, 'deformed means');
    expect(Math.max(...means.map((m, i) => Math.abs(m - canonical.means[i])))).toBeGreaterThan(1e-2);
    expectClose(await gpu().readF32(s.logScales, 18), want.logScales, 1e-5, 'deformed log scales');
    frame.destroy();
    cams[1].time = 0.2;
    const mixed = await rep.render(cams);
    expect(rep.rewardSplats(mixed)).toBeUndefined();
    mixed.destroy();
    rep.destroy();
  });
});
