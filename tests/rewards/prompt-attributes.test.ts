import { describe, expect, it } from 'vitest';
import { useGpu } from '../helpers/gpu.ts';
import { expectGradClose } from '../helpers/compare.ts';
import createPromptAttributes, { colourScores, framingScores, silhouetteScores } from '../../src/rewards/prompt-attributes.ts';
import { shapeSilhouette } from '../../src/rewards/shape-templates.ts';
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

  it('framing: an object that fills the frame scores lower than the same object inside it', async () => {
    const near = render([cube(RED, 1.6)], cams); // a cube too large for the view
    const plugin = createPromptAttributes({ shapeWeight: 0 });
    const inside = await plugin.score(asViews(redCube, 'a red cube'), gpu());
    const filling = await plugin.score(asViews(near, 'a red cube'), gpu());
    expect(inside.details!.framing).toBeGreaterThan(-0.02);
    expect(filling.details!.framing).toBeLessThan(inside.details!.framing - 0.3);
    expect(mean(filling.scores)).toBeLessThan(mean(inside.scores) - 0.3);
  });

  it('framing gradient matches finite differences and is added to the colour gradient', async () => {
    const soft = soften(render([cube(RED, 1.2)], ringCameras(2, 12)), 4);
    const f = framingScores(soft.alpha, 2, soft.width, soft.height, 0.5);
    const total = () => framingScores(soft.alpha, 2, soft.width, soft.height, 0.5).scores.reduce((a, b) => a + b, 0);
    const ca = sampleCoords(f.dAlpha, 30, 5);
    expectGradClose(pick(f.dAlpha, ca), fdAt(soft.alpha, total, ca, 1e-3), 'framing d/dalpha', 2e-2);
    const P = soft.width * soft.height;
    const targets = parsePrompt('a red cube').colours;
    const c = colourScores(soft.rgb, soft.alpha, 2, P, targets, 0.5);
    const plugin = createPromptAttributes({ shapeWeight: 0, framingWeight: 3, framingRadius: 0.5 });
    const r = await plugin.score(asViews(soft, 'a red cube'), gpu());
    expectGradClose(await gpu().readF32(r.grads!.alpha!), c.dAlpha.map((g, i) => g + 3 * f.dAlpha[i]), 'uploaded d/dalpha');
  });

  it('silhouette term: the named shape at the given size scores best, and its gradient matches finite differences', async () => {
    const plugin = createPromptAttributes({ colourWeight: 0, framingWeight: 0, shapeWeight: 0, shapeSize: 1.1, silhouetteWeight: 1 });
    const cubeOfSize = await plugin.score(asViews(render([cube(RED, 0.55)], cams), 'a red cube'), gpu());
    const sphereOfSize = await plugin.score(asViews(render([sphere(RED, 0.55)], cams), 'a red cube'), gpu());
    const smallCube = await plugin.score(asViews(render([cube(RED, 0.3)], cams), 'a red cube'), gpu());
    expect(cubeOfSize.details!.silhouette).toBeGreaterThan(-0.01);
    expect(sphereOfSize.details!.silhouette).toBeLessThan(cubeOfSize.details!.silhouette - 0.01);
    expect(smallCube.details!.silhouette).toBeLessThan(cubeOfSize.details!.silhouette - 0.03);
    const soft = soften(render([sphere(RED, 0.5)], ringCameras(2, 12)), 6);
    const P = soft.width * soft.height;
    const templates = new Uint8Array(2 * P);
    soft.cameras.forEach((c, v) => templates.set(shapeSilhouette('cube', c, soft.width, 1.1, soft.height), v * P));
    const s = silhouetteScores(soft.alpha, templates, 2, P);
    const total = () => silhouetteScores(soft.alpha, templates, 2, P).scores.reduce((a, b) => a + b, 0);
    const ca = sampleCoords(s.dAlpha, 30, 8);
    expectGradClose(pick(s.dAlpha, ca), fdAt(soft.alpha, total, ca, 1e-3), 'silhouette d/dalpha', 2e-2);
  });
});
