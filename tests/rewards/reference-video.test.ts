import { describe, expect, it } from 'vitest';
import { useGpu } from '../helpers/gpu.ts';
import { expectGradClose } from '../helpers/compare.ts';
import createReferenceVideo, { referenceFrame, videoScores, optionsSchema } from '../../src/rewards/reference-video.ts';
import { validateOptions } from '../../src/rewards/registry.ts';
import { orbitCamera } from '../../src/math/camera.ts';
import type { RewardViews } from '../../src/rewards/plugin.ts';
import { fdAt, pick, sampleCoords } from './helpers/fd.ts';

const gpu = useGpu();
const options = { camera: { elevation: 10, azimuth: 20 }, motion: { kind: 'slide', amplitude: 0.5 } };
const parsed = validateOptions('reference-video', optionsSchema, options) as any;
const refCam = (t: number, size = 24) => orbitCamera({ elevation: 10, azimuth: 20, radius: 3, fovY: 40, width: size, height: size, time: t });
const otherCam = (t: number, size = 24) => orbitCamera({ elevation: 10, azimuth: 120, radius: 3, fovY: 40, width: size, height: size, time: t });

function batch(frames: { rgb: Float32Array; alpha: Float32Array }[], cameras: ReturnType<typeof refCam>[], times: number[]): RewardViews {
  const g = gpu();
  const cat = (k: 'rgb' | 'alpha') => {
    const out = new Float32Array(frames.reduce((n, f) => n + f[k].length, 0));
    let o = 0;
    for (const f of frames) (out.set(f[k], o), (o += f[k].length));
    return out;
  };
  const { width, height } = cameras[0];
  const zeros = new Float32Array(frames.length * width * height * 3);
  return {
    views: frames.length, width, height, cameras, times, prompt: '',
    rgb: g.upload('rgb', cat('rgb')), alpha: g.upload('alpha', cat('alpha')),
    depth: g.upload('depth', zeros.subarray(0, frames.length * width * height)), normal: g.upload('normal', zeros),
  };
}

describe('reference-video reward', () => {
  it('the object moves between frames, and the right frame scores best at its time', async () => {
    const f0 = referenceFrame(parsed, refCam(0), 0);
    const f1 = referenceFrame(parsed, refCam(0.25), 0.25);
    let diff = 0;
    for (let i = 0; i < f0.alpha.length; i++) diff += Math.abs(f0.alpha[i] - f1.alpha[i]);
    expect(diff / f0.alpha.length).toBeGreaterThan(0.05);
    const plugin = createReferenceVideo(options);
    const r = await plugin.score(batch([f1, f0, f0], [refCam(0.25), refCam(0.25), otherCam(0.25)], [0.25, 0.25, 0.25]), gpu());
    expect(r.scores[0]).toBeCloseTo(0, 6);
    expect(r.scores[1]).toBeLessThan(-0.02);
    expect(r.scores[2]).toBe(0); // not the reference camera: left to the other rewards
    expect(r.details!.matchedViews).toBe(2);
  });

  it('warns when no view looks from the reference camera', async () => {
    const f = referenceFrame(parsed, otherCam(0), 0);
    const r = await createReferenceVideo(options).score(batch([f], [otherCam(0)], [0]), gpu());
    expect(r.warnings!.join()).toMatch(/cameras\.anchors/);
  });

  it('gradients match finite differences of the score', async () => {
    const cams = [refCam(0.1, 8), refCam(0.6, 8)];
    const views = { cameras: cams, times: [0.1, 0.6], width: 8, height: 8 };
    const rgb = Float32Array.from({ length: 2 * 64 * 3 }, (_, i) => 0.5 + 0.4 * Math.sin(i * 1.7));
    const alpha = Float32Array.from({ length: 2 * 64 }, (_, i) => 0.5 + 0.4 * Math.cos(i * 2.3));
    const s = videoScores(parsed, views, rgb, alpha);
    const total = () => videoScores(parsed, views, rgb, alpha).scores.reduce((a, b) => a + b, 0);
    const cr = sampleCoords(s.dRgb, 25, 1);
    expectGradClose(pick(s.dRgb, cr), fdAt(rgb, total, cr, 1e-3), 'd/drgb', 2e-2);
    const ca = sampleCoords(s.dAlpha, 25, 2);
    expectGradClose(pick(s.dAlpha, ca), fdAt(alpha, total, ca, 1e-3), 'd/dalpha', 2e-2);
  });

  it('needs the reference camera', () => {
    expect(() => createReferenceVideo({})).toThrow(/camera/);
  });
});
