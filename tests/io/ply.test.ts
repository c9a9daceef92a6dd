import { describe, expect, it } from 'vitest';
import { readPly, writePly } from '../../src/io/ply.ts';
import { shCoeffCount, type GaussianData } from '../../src/scene/gaussian-data.ts';
import { coloredSphere, seededRandom } from './synthetic.ts';

/** Inria field values of splat i by property name, computed independently of writePly. */
function inriaFields(data: GaussianData, i: number): Map<string, number> {
  const K = shCoeffCount(data.shDegree);
  const f = new Map<string, number>();
  ['x', 'y', 'z'].forEach((n, c) => f.set(n, data.means[i * 3 + c]));
  for (let c = 0; c < 3; c++) {
    f.set(`f_dc_${c}`, data.sh[i * K * 3 + c]);
    for (let k = 1; k < K; k++) f.set(`f_rest_${c * (K - 1) + k - 1}`, data.sh[(i * K + k) * 3 + c]);
    f.set(`scale_${c}`, data.logScales[i * 3 + c]);
  }
  for (let c = 0; c < 4; c++) f.set(`rot_${c}`, data.quats[i * 4 + c]);
  f.set('opacity', data.opacityLogits[i]);
  return f;
}

function shuffled<T>(items: T[], seed: number): T[] {
  const rand = seededRandom(seed);
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

function expectSameData(actual: GaussianData, expected: GaussianData): void {
  expect(actual.count).toBe(expected.count);
  expect(actual.shDegree).toBe(expected.shDegree);
  expect(actual.means).toEqual(expected.means);
  expect(actual.logScales).toEqual(expected.logScales);
  expect(actual.quats).toEqual(expected.quats);
  expect(actual.opacityLogits).toEqual(expected.opacityLogits);
  expect(actual.sh).toEqual(expected.sh);
}

describe('PLY', () => {
  for (const degree of [0, 1, 2, 3]) {
    it(`round-trips SH degree ${degree} exactly through binary PLY`, () => {
      const data = coloredSphere(50, degree, degree + 7);
      expectSameData(readPly(writePly(data), 'mem.ply'), data);
    });
  }

  it('writes Inria names with channel-major f_rest', () => {
    const data = coloredSphere(4, 2, 3);
    const bytes = writePly(data);
    const header = new TextDecoder().decode(bytes.subarray(0, 4000)).split('end_header')[0];
    const names = [...header.matchAll(/property float (\S+)/g)].map((m) => m[1]);
    expect(names.slice(0, 9)).toEqual(['x', 'y', 'z', 'nx', 'ny', 'nz', 'f_dc_0', 'f_dc_1', 'f_dc_2']);
    expect(names.filter((n) => n.startsWith('f_rest_'))).toHaveLength(24);
    const body = new Float32Array(bytes.slice(header.length + 'end_header\n'.length).buffer);
    const fields = inriaFields(data, 3);
    const row = body.subarray(3 * names.length, 4 * names.length);
    for (const [name, value] of fields) expect(row[names.indexOf(name)]).toBe(Math.fround(value));
  });

  it('reads ASCII with fields in any order and no normals', () => {
    const data = coloredSphere(20, 3, 11);
    const names = shuffled([...inriaFields(data, 0).keys()], 5);
    const lines = ['ply', 'format ascii 1.0', 'comment made by a test', `element vertex ${data.count}`];
    for (const n of names) lines.push(`property float ${n}`);
    lines.push('end_header');
    for (let i = 0; i < data.count; i++) {
      const f = inriaFields(data, i);
      lines.push(names.map((n) => f.get(n)!.toPrecision(9)).join(' '));
    }
    expectSameData(readPly(new TextEncoder().encode(lines.join('\n') + '\n'), 'ascii.ply'), data);
  });

  it('reads binary with mixed property types, shuffled order and an extra element after the vertices', () => {
    const data = coloredSphere(10, 1, 13);
    const names = shuffled([...inriaFields(data, 0).keys(), 'nx', 'ny', 'nz'], 9);
    const types = names.map((_, i) => (i % 2 ? 'double' : 'float'));
    const header = ['ply', 'format binary_little_endian 1.0', `element vertex ${data.count}`];
    names.forEach((n, i) => header.push(`property ${types[i]} ${n}`));
    header.push('element extra 1', 'property uchar flag', 'end_header', '');
    const head = new TextEncoder().encode(header.join('\n'));
    const rowBytes = types.reduce((s, t) => s + (t === 'double' ? 8 : 4), 0);
    const bytes = new Uint8Array(head.length + data.count * rowBytes + 1);
    bytes.set(head);
    const view = new DataView(bytes.buffer);
    let at = head.length;
    for (let i = 0; i < data.count; i++) {
      const f = inriaFields(data, i);
      names.forEach((n, p) => {
        const v = f.get(n) ?? 0;
        if (types[p] === 'double') (view.setFloat64(at, v, true), (at += 8));
        else (view.setFloat32(at, v, true), (at += 4));
      });
    }
    expectSameData(readPly(bytes, 'mixed.ply'), data);
  });
});
