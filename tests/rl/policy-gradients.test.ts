// The grpo and dpo gradient coefficients against central finite differences of their losses,
// written directly from the Gaussian-policy densities (no GPU).
import { describe, expect, it } from 'vitest';
import { expectGradClose } from '../helpers/compare.ts';
import { gaussianNoise } from '../../src/reference/rl/param-noise.ts';
import { ppoCoefficients } from '../../src/rl/grpo.ts';
import { dpoCoefficients } from '../../src/rl/dpo.ts';
import { seededRandom } from './helpers/train.ts';

const n = 12;
const sigma = 0.2;
const seeds = [11, 222, 3333];
const eps = seeds.map((s) => Array.from({ length: n }, (_, i) => gaussianNoise(s, i)));
const rnd = seededRandom(17);
const vec = (scale: number) => Array.from({ length: n }, () => (rnd() * 2 - 1) * scale);
const dot = (a: number[], b: number[]) => a.reduce((s, x, i) => s + x * b[i], 0);
const sub = (a: number[], b: number[]) => a.map((x, i) => x - b[i]);
/** log N(a; mu, sigma^2 I) up to a constant. */
const logPi = (a: number[], mu: number[]) => -dot(sub(a, mu), sub(a, mu)) / (2 * sigma * sigma);

function finiteDifference(f: (mu: number[]) => number, mu: number[]): number[] {
  const h = 1e-6;
  return mu.map((_, i) => {
    const p = [...mu];
    const m = [...mu];
    p[i] += h;
    m[i] -= h;
    return (f(p) - f(m)) / (2 * h);
  });
}

describe('policy-gradient coefficients', () => {
  it('grpo: clipped PPO surrogate + KL matches finite differences', () => {
    const old = vec(1);
    const ref = vec(1);
    const mu = old.map((x) => x + 0.01 * (rnd() * 2 - 1)); // inside the trust region for most samples
    const advPlus = [1.2, -0.4, 0.7];
    const advMinus = [-1.0, 0.3, -0.8];
    const o = { sigma, clipRange: 0.05, klWeight: 0.3 };
    const samples = seeds.flatMap((_, p) => [
      { a: old.map((x, i) => x + sigma * eps[p][i]), A: advPlus[p] },
      { a: old.map((x, i) => x - sigma * eps[p][i]), A: advMinus[p] },
    ]);
    const loss = (m: number[]) => {
      let obj = 0;
      for (const { a, A } of samples) {
        const rho = Math.exp(logPi(a, m) - logPi(a, old));
        obj += Math.min(rho * A, Math.min(Math.max(rho, 1 - o.clipRange), 1 + o.clipRange) * A) / samples.length;
      }
      return -obj + (o.klWeight * dot(sub(m, ref), sub(m, ref))) / (2 * sigma * sigma);
    };
    const d = sub(mu, old);
    const c = ppoCoefficients({ dots: eps.map((e) => dot(e, d)), distOld: dot(d, d), advPlus, advMinus }, o, 1);
    const grad = mu.map((x, i) => seeds.reduce((s, _, p) => s + c.coefs[p] * eps[p][i], 0) + c.cOld * d[i] + (o.klWeight / (sigma * sigma)) * (x - ref[i]));
    expectGradClose(grad, finiteDifference(loss, mu), 'grpo gradient');
    // Both branches of the min are exercised: some samples clipped, some not.
    expect(c.clipped).toBeGreaterThan(0);
    expect(c.clipped).toBeLessThan(samples.length);
  });

  it('dpo: preference loss with a reference policy matches finite differences', () => {
    const mu = vec(1);
    const ref = mu.map((x) => x + 0.05 * (rnd() * 2 - 1));
    const plus = [0.9, 0.1, 0.5];
    const minus = [0.2, 0.6, 0.5]; // the third pair ties and is skipped
    const o = { sigma, beta: 0.7, minGap: 0 };
    const loss = (m: number[]) => {
      let total = 0;
      let used = 0;
      seeds.forEach((_, p) => {
        if (plus[p] === minus[p]) return;
        const sw = plus[p] > minus[p] ? 1 : -1;
        // The candidates are drawn around the current mu (held fixed), the policy varies.
        const aw = mu.map((x, i) => x + sw * sigma * eps[p][i]);
        const al = mu.map((x, i) => x - sw * sigma * eps[p][i]);
        const z = o.beta * (logPi(aw, m) - logPi(aw, ref) - (logPi(al, m) - logPi(al, ref)));
        total += Math.log1p(Math.exp(-z));
        used++;
      });
      return total / used;
    };
    const c = dpoCoefficients({ dots: eps.map((e) => dot(e, sub(mu, ref))), plus, minus }, o, 1);
    const grad = mu.map((_, i) => seeds.reduce((s, __, p) => s + c.coefs[p] * eps[p][i], 0));
    expectGradClose(grad, finiteDifference(loss, mu), 'dpo gradient');
  });
});
