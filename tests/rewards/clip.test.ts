import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { useGpu } from '../helpers/gpu.ts';
import createClipReward from '../../src/rewards/clip.ts';
import { ClipTokenizer, byteToUnicode } from '../../src/rewards/clip-tokenizer.ts';
import { CLIP_MEAN, CLIP_STD, preprocessViews } from '../../src/rewards/clip-preprocess.ts';
import { InputError } from '../../src/errors.ts';
import { uploadViews, type CpuViews } from '../../src/reference/rewards/analytic-scenes.ts';
import type { RewardViews } from '../../src/rewards/plugin.ts';
import { BLUE, RED, cube, render, ringCameras, sphere } from './helpers/scenes.ts';
import { writeTinyClip } from './helpers/tiny-clip.ts';

const gpu = useGpu();
const tmp = mkdtempSync(join(tmpdir(), 'rl4d-clip-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const asViews = (v: CpuViews, prompt: string): RewardViews => ({ ...uploadViews(gpu(), v), times: v.cameras.map(() => 0), prompt });

describe('clip reward', () => {
  const dir = join(tmp, 'tiny-clip');
  const { vocab } = writeTinyClip(dir);

  it('tokenizes with CLIP BPE: merges, end-of-word marks, specials and padding', () => {
    const tok = ClipTokenizer.fromFolder(dir, 12);
    const { ids, mask } = tok.encode('  A RED   cube, xz ');
    // "xz" is not a word of the vocabulary: it falls back to its characters.
    const want = [tok.sot, vocab['a</w>'], vocab['red</w>'], vocab['cube</w>'], vocab['x'], vocab['z</w>'], tok.eot];
    expect(ids.slice(0, want.length)).toEqual(want);
    expect(ids.length).toBe(12);
    expect(mask.filter(Boolean).length).toBe(want.length);
    expect(new Set(byteToUnicode()).size).toBe(256);
  });

  it('preprocesses: resize shortest side, centre crop, CLIP mean/std', () => {
    const W = 8, H = 4;
    const rgb = new Float32Array(W * H * 3);
    for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) rgb[(y * W + x) * 3] = x < 2 || x >= 6 ? 1 : 0.5;
    const out = preprocessViews(rgb, [0], W, H, 4);
    // The crop keeps the middle 4 columns, all with red = 0.5.
    for (let i = 0; i < 16; i++) expect(out[i]).toBeCloseTo((0.5 - CLIP_MEAN[0]) / CLIP_STD[0], 5);
    expect(out[16]).toBeCloseTo(-CLIP_MEAN[1] / CLIP_STD[1], 5);
  });

  it('"a red cube": a red cube is more similar than a blue sphere', async () => {
    const cams = ringCameras(3, 32);
    const plugin = createClipReward({ modelDir: dir, batchSize: 2 });
    const red = await plugin.score(asViews(render([cube(RED)], cams), 'a red cube'), gpu());
    const blue = await plugin.score(asViews(render([sphere(BLUE)], cams), 'a red cube'), gpu());
    expect(Math.min(...red.scores)).toBeGreaterThan(0.8);
    expect(Math.max(...blue.scores)).toBeLessThan(Math.min(...red.scores) - 0.3);
    const blueForBlue = await plugin.score(asViews(render([sphere(BLUE)], cams), 'a blue sphere'), gpu());
    expect(Math.min(...blueForBlue.scores)).toBeGreaterThan(0.8);
    await plugin.teardown?.();
  });

  it('a missing or wrong model folder gets a clear InputError', async () => {
    const views = asViews(render([cube()], ringCameras(1, 8)), 'x');
    const missing = await createClipReward({ modelDir: join(tmp, 'nope') }).score(views, gpu()).catch((e) => e);
    expect(missing).toBeInstanceOf(InputError);
    expect(missing.message).toMatch(/model folder .*nope.* does not exist/);
    const partial = join(tmp, 'partial');
    writeTinyClip(partial);
    unlinkSync(join(partial, 'text_model.onnx'));
    const noText = await createClipReward({ modelDir: partial }).score(views, gpu()).catch((e) => e);
    expect(noText).toBeInstanceOf(InputError);
    expect(noText.message).toMatch(/no text encoder.*text_model\.onnx/);
    expect(() => createClipReward({})).toThrow(/'clip'.*'modelDir' is required/);
  });
});
