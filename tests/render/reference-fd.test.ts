// The reference's analytic gradients against central finite differences of its own forward.
import { describe, expect, it } from 'vitest';
import { referenceBackward, referenceRender } from '../../src/reference/splat/render.ts';
import type { GaussianData } from '../../src/scene/gaussian-data.ts';
import type { RenderOptions } from '../../src/render/types.ts';
import { cameras, randomArray, smallScene, toF64 } from './scenes.ts';
import { cosine, relL2 } from '../helpers/compare.ts';

type Field = 'means' | 'logScales' | 'quats' | 'opacityLogits' | 'sh';
const FIELDS: Field[] = ['means', 'logScales', 'quats', 'opacityLogits', 'sh'];

function loss(data: GaussianData, cams: ReturnType<typeof cameras>, cot: Record<string, Float32Array>, o: RenderOptions): number {
  const img = referenceRender(data, cams, o);
  let l = 0;
  for (const k of ['rgb', 'alpha', 'depth', 'normal'] as const) {
    const a = img[k];
    for (let i = 0; i < a.length; i++) l += a[i] * cot[k][i];
  }
  return l;
}

function check(seed: number, shDegree: number, o: RenderOptions, views = 1) {
  const data = toF64(smallScene(5, shDegree, seed));
  const cams = cameras(views, 20, 18, 3);
  const P = views * 20 * 18;
  const cot = { rgb: randomArray(P * 3, seed + 1), alpha: randomArray(P, seed + 2), depth: randomArray(P, seed + 3), normal: randomArray(P * 3, seed + 4) };
  const { grads } = referenceBackward(data, cams, cot, o);
  const eps = 1e-6;
  for (const f of FIELDS) {
    const arr = data[f] as unknown as Float64Array;
    const fd = new Float64Array(arr.length);
    for (let i = 0; i < arr.length; i++) {
      const x = arr[i];
      arr[i] = x + eps;
      const lp = loss(data, cams, cot, o);
      arr[i] = x - eps;
      const lm = loss(data, cams, cot, o);
      arr[i] = x;
      fd[i] = (lp - lm) / (2 * eps);
    }
    const an = grads[f];
    const r = relL2(an, fd), c = cosine(an, fd);
    expect(r, `${f}: rel L2 ${r}`).toBeLessThan(1e-3);
    expect(c, `${f}: cosine ${c}`).toBeGreaterThan(0.9999);
    expect(Math.max(...Array.from(fd, Math.abs)), `${f}: gradient is not trivially zero`).toBeGreaterThan(1e-3);
  }
}

describe('reference splat backward vs central differences', () => {
  it('SH degree 0, classic', () => check(11, 0, {}));
  it('SH degree 3, antialiased, background, two views', () => check(12, 3, { antialiased: true, background: [0.2, 0.5, 0.9] }, 2));
  it('SH degree 1 and 2', () => {
    check(13, 1, { background: [1, 1, 1] });
    check(14, 2, { antialiased: true });
  });
});
