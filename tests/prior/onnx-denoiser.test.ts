// The ONNX denoiser on a model whose exact answer is known: the Bayes eps-predictor for
// Gaussian data, built by the test with onnx-proto.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors.ts';
import { OnnxDenoiser } from '../../src/prior/onnx-denoiser.ts';
import { ddpmSchedule, noiseLevels } from '../../src/prior/score-prior.ts';
import { expectClose } from '../helpers/compare.ts';
import { buildGaussianDenoiser } from './helpers/gaussian-denoiser-model.ts';
import { seededRandom } from '../rl/helpers/train.ts';

const W = 4;
const H = 3;
const STD = 0.3;
const dir = mkdtempSync(join(tmpdir(), 'rl4d-onnx-'));

function gauss(rnd: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - rnd())) * Math.cos(2 * Math.PI * rnd());
}

describe('OnnxDenoiser', () => {
  const schedule = ddpmSchedule({ steps: 1000, betaSchedule: 'scaled-linear' });
  const rnd = seededRandom(11);
  const meanU = Float32Array.from({ length: 3 * H * W }, () => rnd() - 0.5);
  const meanC = Float32Array.from({ length: 3 * H * W }, () => rnd() * 0.8 - 0.4);

  for (const timestepType of ['int64', 'float32'] as const) {
    it(`predicts the known eps with CFG (timestep ${timestepType})`, async () => {
      const path = join(dir, `gauss-${timestepType}.onnx`);
      writeFileSync(path, buildGaussianDenoiser({ schedule, width: W, height: H, meanUncond: meanU, meanCond: meanC, std: STD, timestepType }));
      const prior = await OnnxDenoiser.create({ path });
      expect(prior.resolution).toEqual({ width: W, height: H });
      const V = 2;
      const t = [50, 800];
      const noisy = Float32Array.from({ length: V * H * W * 3 }, () => gauss(rnd));
      const scale = 3.5;
      const eps = await prior.predictNoise({ noisy: { views: V, width: W, height: H, data: noisy }, t, prompt: 'p', cameras: [], guidanceScale: scale });
      // Expected, in NHWC: eps_u + s (eps_c - eps_u) with eps_m = sigma (x - alpha m) / (alpha^2 s^2 + sigma^2).
      const want = new Float64Array(noisy.length);
      for (let v = 0; v < V; v++) {
        const { alpha, sigma } = noiseLevels(schedule, t[v]);
        const k = sigma / (alpha * alpha * STD * STD + sigma * sigma);
        for (let p = 0; p < H * W; p++)
          for (let c = 0; c < 3; c++) {
            const i = (v * H * W + p) * 3 + c;
            const x = noisy[i];
            const eu = k * (x - alpha * meanU[c * H * W + p]);
            const ec = k * (x - alpha * meanC[c * H * W + p]);
            want[i] = eu + scale * (ec - eu);
          }
      }
      expectClose(eps, want, 1e-4, 'guided eps');
      await prior.destroy();
    });
  }

  it('a missing model file is one InputError naming the path', async () => {
    await expect(OnnxDenoiser.create({ path: join(dir, 'nope.onnx') })).rejects.toThrow(InputError);
    await expect(OnnxDenoiser.create({ path: join(dir, 'nope.onnx') })).rejects.toThrow(/nope\.onnx' not found/);
  });

  it('a file that is not a model is an InputError', async () => {
    const path = join(dir, 'junk.onnx');
    writeFileSync(path, 'not a model');
    await expect(OnnxDenoiser.create({ path })).rejects.toThrow(/not a loadable ONNX model/);
  });
});
