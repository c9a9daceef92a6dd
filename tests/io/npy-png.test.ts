import { describe, expect, it } from 'vitest';
import { decode } from 'fast-png';
import { encodeNpy } from '../../src/io/npy.ts';
import { encodeRgbPng } from '../../src/io/png.ts';

describe('npy writer', () => {
  it('writes a version 1.0 header aligned to 64 bytes and the raw little-endian data', () => {
    const data = Float32Array.from({ length: 2 * 3 * 3 }, (_, i) => i * 0.5 - 1);
    const bytes = encodeNpy(data, [2, 3, 3]);
    expect([...bytes.slice(0, 8)]).toEqual([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
    const headerLen = new DataView(bytes.buffer).getUint16(8, true);
    expect((10 + headerLen) % 64).toBe(0);
    const header = new TextDecoder().decode(bytes.slice(10, 10 + headerLen));
    expect(header).toContain("'descr': '<f4'");
    expect(header).toContain("'shape': (2, 3, 3)");
    expect(header.endsWith('\n')).toBe(true);
    const body = new Float32Array(bytes.slice(10 + headerLen).buffer);
    expect([...body]).toEqual([...data]);
  });

  it('refuses data that does not fill the shape', () => {
    expect(() => encodeNpy(new Float32Array(5), [2, 3])).toThrow(/shape/);
  });
});

describe('png writer', () => {
  it('clamps and rounds floats to 8 bits and keeps alpha', () => {
    const rgb = Float32Array.from([0, 0.5, 1, 2, -1, NaN]);
    const alpha = Float32Array.from([1, 0.25]);
    const png = decode(encodeRgbPng(rgb, 2, 1, alpha));
    expect(png.channels).toBe(4);
    expect([...png.data]).toEqual([0, 128, 255, 255, 255, 0, 0, 64]);
  });
});
