import { describe, expect, it } from 'vitest';
import { readPly, writePly } from '../../src/io/ply.ts';
import { readSplat, writeSplat } from '../../src/io/splat-file.ts';
import { SH_C0 } from '../../src/scene/gaussian-data.ts';
import { coloredSphere } from './synthetic.ts';

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

describe('.splat', () => {
  it('PLY -> .splat -> PLY keeps every value within the format precision', () => {
    const original = coloredSphere(64, 2, 21);
    const back = readPly(writePly(readSplat(writeSplat(readPly(writePly(original))), 'mem.splat')));
    expect(back.count).toBe(original.count);
    expect(back.shDegree).toBe(0); // .splat stores no higher SH
    // .splat reorders splats (big, opaque first): match them by their exact float32 position.
    const key = (m: Float32Array, i: number) => `${m[i * 3]},${m[i * 3 + 1]},${m[i * 3 + 2]}`;
    const slot = new Map(Array.from({ length: back.count }, (_, j) => [key(back.means, j), j]));
    const K = 9;
    for (let i = 0; i < original.count; i++) {
      const j = slot.get(key(original.means, i));
      expect(j, `splat ${i} lost`).toBeDefined();
      for (let c = 0; c < 3; c++) {
        // Scales are float32 in linear space: exact up to exp/log rounding.
        expect(Math.exp(back.logScales[j! * 3 + c])).toBeCloseTo(Math.exp(original.logScales[i * 3 + c]), 6);
        // Colour is one byte of 0.5 + SH_C0 * dc.
        const color = (dc: number) => 0.5 + SH_C0 * dc;
        expect(Math.abs(color(back.sh[j! * 3 + c]) - color(original.sh[i * K * 3 + c]))).toBeLessThanOrEqual(0.5 / 255 + 1e-6);
      }
      expect(Math.abs(sigmoid(back.opacityLogits[j!]) - sigmoid(original.opacityLogits[i]))).toBeLessThanOrEqual(0.5 / 255 + 1e-6);
      // Rotation bytes: q/|q| * 128 + 128, so each component within 1/256 (up to sign of q).
      const q = original.quats.subarray(i * 4, i * 4 + 4);
      const n = Math.hypot(...q);
      for (let c = 0; c < 4; c++) expect(Math.abs(back.quats[j! * 4 + c] - q[c] / n)).toBeLessThanOrEqual(1 / 128);
    }
  });

  it('writes big, opaque splats first', () => {
    const data = coloredSphere(30, 0, 4);
    const bytes = writeSplat(data);
    const view = new DataView(bytes.buffer);
    let previous = Infinity;
    for (let s = 0; s < data.count; s++) {
      const volume = view.getFloat32(s * 32 + 12, true) * view.getFloat32(s * 32 + 16, true) * view.getFloat32(s * 32 + 20, true);
      const weight = volume * (bytes[s * 32 + 27] / 255);
      expect(weight).toBeLessThanOrEqual(previous * 1.02 + 1e-12);
      previous = weight;
    }
  });
});
