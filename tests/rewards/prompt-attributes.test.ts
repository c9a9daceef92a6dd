import { describe, expect, it } from 'vitest';
import { useGpu } from '../helpers/gpu.ts';
import { expectGradClose } from '../helpers/compare.ts';
import createPromptAttributes, { colourScores } from '../../src/rewards/prompt-attributes.ts';
import { parsePrompt } from '../../src/rewards/prompt-vocabulary.ts';
import { uploadViews, type CpuViews } from '../../src/reference/rewards/analytic-scenes.ts';
import type { RewardViews } from '../../src/rewards/plugin.ts';
import { BLUE, RED, cube, render, ringCameras, soften, sphere } from './helpers/scenes.ts';
import { fdAt, pick, sampleCoords } from './helpers/fd.ts';

const gpu = useGpu();
const asViews = (v: CpuViews, prompt: string): RewardViews => ({ ...uploadViews(gpu(), v), times: v.cameras.map(() => 0), prompt });
const mean = (a: ArrayLike<number>) => Array.from(a).reduce((s, x) => s + x, 0) / a.length;

describe('prompt-attributes reward', () => {
  const cams = ringCameras(4, 48, 20);
  const redCube = render([cube(RED)], cams);
  const blueSphere = render([sphere(BLUE)], cams);
  const redSphere = render([sphere(RED)], cams);
  const blueCube = render([cube(BLUE)], cams);

  it('parses colours, materials and shapes and reports unknown words', () => {
    const p = parsePrompt('A light-blue wooden cube next to a dragon, glass spheres');
    expect(p.colourWords).toEqual(['blue']);
    expect(p.colours[0][0]).toBeGreaterThan(0.3); // lightened
    expect(p.shapes).toEqual(['cube', 'sphere']);
    expect(p.unknown).toEqual(['next', 'dragon']);
    expect(p.unscored).toEqual(['glass']);
    expect(parsePrompt('a wooden box').colours.length).toBe(1);
  });

  it('"a red cube": a red cube scores higher than a blue sphere, and each attribute counts', async () => {
    const plugin = createPromptAttributes({});
    const s = async (v: CpuViews) => plugin.score(asViews(v, 'a red cube'), gpu());
    const [rc, bs, rs, bc] = [await s(redCube), await s(blueSphere), await s(redSphere), await s(blueCube)];
    expect(mean(rc.scores)).toBeGreaterThan(mean(bs.scores) + 0.5);
    expect(rc.details!.colour).toBeGreaterThan(bc.details!.colour + 0.5);
    expect(rc.details!.shape).toBeGreaterThan(rs.details!.shape + 0.05);
    expect(rc.details!.shape).toBeGreaterThan(0.85);
    expect(rc.warnings).toEqual([]);
    const sphereFirst = await plugin.score(asViews(blueSphere, 'a blue sphere'), gpu());
    expect(sphereFirst.details!.shape).toBeGreaterThan(bs.details!.shape + 0.05);
  });

  it('reports words it does not know', async () => {
    const r = await createPromptAttributes({}).score(asViews(redCube, 'a red cube shaped like a dragon'), gpu());
    expect(r.details!.unknownWords).toBe(2);
    expect(r.warnings!.join(' ')).toMatch(/not understood.*like, dragon/);
  });

  it('colour gradient matches finite differences of the score', async () => {
    const soft = soften(render([cube(RED)], ringCameras(2, 10)), 9);
    const targets = parsePrompt('a red and light green thing').colours;
    const P = soft.width * soft.height;
    const ref = colourScores(soft.rgb, soft.alpha, 2, P, targets, 0.5);
    const total = () => colourScores(soft.rgb, soft.alpha, 2, P, targets, 0.5).scores.reduce((a, b) => a + b, 0);
    const cr = sampleCoords(ref.dRgb, 30, 2);
    expectGradClose(pick(ref.dRgb, cr), fdAt(soft.rgb, total, cr, 1e-3), 'd/drgb', 2e-2);
    const ca = sampleCoords(ref.dAlpha, 30, 3);
    expectGradClose(pick(ref.dAlpha, ca), fdAt(soft.alpha, total, ca, 1e-3), 'd/dalpha', 2e-2);
    // The plugin uploads the same gradient, scaled by its colour weight.
    const plugin = createPromptAttributes({ colourWeight: 2, shapeWeight: 0 });
    const r = await plugin.score(asViews(soft, 'a red and light green thing'), gpu());
    expectGradClose(await gpu().readF32(r.grads!.rgb!), ref.dRgb.map((g) => 2 * g), 'uploaded d/drgb');
  });
});
