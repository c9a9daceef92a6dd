// The exemplar prior is the exact denoiser: eps_hat = -sigma * grad log p_t(x) (Tweedie),
// checked against finite differences of the mixture's log density; camera weighting, CFG,
// PNG loading and bad input.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encode } from 'fast-png';
import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors.ts';
import { orbitCamera } from '../../src/math/camera.ts';
import { ExemplarPrior, cameraDirection, orbitDirection } from '../../src/prior/exemplar-prior.ts';
import { createScorePrior, validatePriorConfig } from '../../src/prior/registry.ts';
import { ddpmSchedule, noiseLevels, sdsWeight } from '../../src/prior/score-prior.ts';
import { resizeBilinear, resizeBilinearAdjoint } from '../../src/prior/image-resize.ts';
import { expectClose } from '../helpers/compare.ts';
import { seededRandom } from '../rl/helpers/train.ts';

const S = 2;
const N = S * S * 3;
const rnd = seededRandom(21);
const rand = (n: number) => Float32Array.from({ length: n }, () => rnd());

/** log sum_k pi_k N(x; alpha y_k, v I) in f64 (y in model space). */
function logDensity(x: ArrayLike<number>, ys: Float64Array[], logPi: number[], alpha: number, v: number): number {
  const terms = ys.map((y, k) => {
    let d2 = 0;
    for (let i = 0; i < x.length; i++) d2 += (x[i] - alpha * y[i]) ** 2;
    return logPi[k] - d2 / (2 * v) - (x.length / 2) * Math.log(2 * Math.PI * v);
  });
  const m = Math.max(...terms);
  return m + Math.log(terms.reduce((a, t) => a + Math.exp(t - m), 0));
}

describe('ExemplarPrior', () => {
  it('is the exact denoiser of the smoothed exemplars (Tweedie check)', async () => {
    const rgbs = [rand(N), rand(N), rand(N)];
    const smoothing = 0.2;
    const prior = await ExemplarPrior.create({ exemplars: rgbs.map((rgb) => ({ width: S, height: S, rgb })), smoothing });
    const ys = rgbs.map((r) => Float64Array.from(r, (c) => 2 * c - 1));
    for (const t of [100, 600, 950]) {
      const { alpha, sigma } = noiseLevels(prior.schedule, t);
      const v = alpha * alpha * smoothing * smoothing + sigma * sigma;
      // A point between exemplars so that several posterior weights matter.
      const x = Float32Array.from({ length: N }, (_, i) => alpha * (0.5 * ys[0][i] + 0.5 * ys[1][i]) + 0.3 * sigma * (rnd() - 0.5));
      const eps = await prior.predictNoise({ noisy: { views: 1, width: S, height: S, data: x }, t: [t], prompt: '', cameras: [], guidanceScale: 1 });
      const h = 1e-4;
      const want = Array.from(x, (_, i) => {
        const xp = Float64Array.from(x);
        const xm = Float64Array.from(x);
        xp[i] += h;
        xm[i] -= h;
        const grad = (logDensity(xp, ys, [0, 0, 0], alpha, v) - logDensity(xm, ys, [0, 0, 0], alpha, v)) / (2 * h);
        return -sigma * grad;
      });
      expectClose(eps, want, 2e-4, `eps at t=${t}`);
    }
  });

  it('camera proximity weights the exemplars; CFG mixes conditional and unconditional', async () => {
    const a = rand(N);
    const b = rand(N);
    const prior = await ExemplarPrior.create({
      exemplars: [
        { width: S, height: S, rgb: a, direction: orbitDirection(0, 0) },
        { width: S, height: S, rgb: b, direction: orbitDirection(0, 180) },
      ],
      cameraBandwidth: 20,
    });
    const onlyA = await ExemplarPrior.create({ exemplars: [{ width: S, height: S, rgb: a }] });
    const both = await ExemplarPrior.create({ exemplars: [{ width: S, height: S, rgb: a }, { width: S, height: S, rgb: b }] });
    const cam = orbitCamera({ elevation: 0, azimuth: 5, radius: 3, width: S, height: S });
    expectClose(cameraDirection(cam), orbitDirection(0, 5), 1e-6, 'camera direction');
    const t = 900; // high noise: the camera weight, not the image, decides
    const { alpha } = noiseLevels(prior.schedule, t);
    const x = Float32Array.from({ length: N }, (_, i) => alpha * (a[i] + b[i] - 1));
    const req = (guidanceScale: number) => ({ noisy: { views: 1, width: S, height: S, data: x }, t: [t], prompt: '', cameras: [cam], guidanceScale });
    const cond = await prior.predictNoise(req(1));
    const uncond = await prior.predictNoise(req(0));
    expectClose(cond, await onlyA.predictNoise(req(1)), 1e-3, 'conditional ~ the near exemplar');
    expectClose(uncond, await both.predictNoise(req(1)), 1e-6, 'unconditional = uniform weights');
    const guided = await prior.predictNoise(req(3));
    expectClose(guided, cond.map((c, i) => uncond[i] + 3 * (c - uncond[i])), 1e-5, 'CFG');
  });

  it('loads PNG exemplars through the prior config, and rejects bad input', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rl4d-exemplar-'));
    const pixels = Uint8Array.from({ length: 3 * 2 * 4 }, (_, i) => (i * 37) % 256);
    writeFileSync(join(dir, 'a.png'), encode({ width: 3, height: 2, data: pixels, channels: 4, depth: 8 }));
    const prior = await createScorePrior({ kind: 'exemplar', images: [{ path: 'a.png', azimuth: 30 }], betaSchedule: 'linear' }, dir);
    expect(prior.resolution).toEqual({ width: 3, height: 2 });
    // A noiseless-limit check: at t = 0 with x = alpha y, eps_hat is 0.
    const { alpha } = noiseLevels(prior.schedule, 0);
    const y = Float32Array.from({ length: 18 }, (_, i) => 2 * (pixels[Math.floor(i / 3) * 4 + (i % 3)] / 255) - 1);
    const eps = await prior.predictNoise({ noisy: { views: 1, width: 3, height: 2, data: y.map((v) => alpha * v) }, t: [0], prompt: '', cameras: [], guidanceScale: 1 });
    expectClose(eps, new Float32Array(18), 1e-3, 'eps at the exemplar');
    expect(() => validatePriorConfig({ kind: 'exemplar', images: [{ path: 'missing.png' }] }, dir)).toThrow(/prior.images\[0\].path 'missing.png' does not exist/);
    expect(() => validatePriorConfig({ kind: 'exemplar', images: [] }, dir)).toThrow(InputError);
    expect(() => validatePriorConfig({ kind: 'exemplar', images: [{ path: 'a.png' }], smoothing: -1 }, dir)).toThrow(/prior.smoothing must be a number >= 0/);
    expect(() => validatePriorConfig({ kind: 'onnx', path: 'none.onnx' }, dir)).toThrow(/prior.path 'none.onnx' not found/);
    expect(() => validatePriorConfig({ kind: 'onnx', path: 'a.png', colour: 1 }, dir)).toThrow(/prior.colour is not a field/);
    expect(() => validatePriorConfig({ kind: 'gan' }, dir)).toThrow(/prior.kind must be 'onnx' or 'exemplar'/);
    await expect(ExemplarPrior.create({ exemplars: [{ path: join(dir, 'gone.png') }] })).rejects.toThrow(InputError);
  });
});

describe('DDPM schedule, weighting and resize', () => {
  it('matches the closed forms', () => {
    const lin = ddpmSchedule({ betaSchedule: 'linear', steps: 1000 });
    let prod = 1;
    for (let t = 0; t < 1000; t++) prod *= 1 - (1e-4 + (t / 999) * (0.02 - 1e-4));
    expect(lin.alphasCumprod[999]).toBeCloseTo(prod, 12);
    const sl = ddpmSchedule({ steps: 1000 });
    expect(1 - sl.alphasCumprod[0]).toBeCloseTo(0.00085, 10);
    expect(sdsWeight(sl, 500, 'sds')).toBeCloseTo(1 - sl.alphasCumprod[500], 12);
    expect(sdsWeight(sl, 500, 'fantasia3d')).toBeCloseTo(Math.sqrt(sl.alphasCumprod[500]) * (1 - sl.alphasCumprod[500]), 12);
    expect(() => ddpmSchedule({ betaStart: 0.5, betaEnd: 0.1 })).toThrow(InputError);
  });

  it('the resize adjoint is the transpose of the resize', () => {
    const from = { views: 2, width: 5, height: 3, channels: 3 };
    const x = rand(2 * 5 * 3 * 3);
    const y = rand(2 * 4 * 2 * 3);
    const ax = resizeBilinear(x, from, 4, 2);
    const aty = resizeBilinearAdjoint(y, { width: 4, height: 2 }, from);
    const dot = (p: ArrayLike<number>, q: ArrayLike<number>) => Array.from(p).reduce((s, v, i) => s + v * q[i], 0);
    expect(dot(ax, y)).toBeCloseTo(dot(x, aty), 5);
    // Downsampling a constant image keeps it constant.
    expectClose(resizeBilinear(new Float32Array(90).fill(0.25), from, 4, 2), new Float32Array(48).fill(0.25), 1e-7, 'constant');
  });
});
