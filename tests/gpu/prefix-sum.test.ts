import { describe, expect, it } from 'vitest';
import { PrefixSum, subgroupLayoutSize } from '../../src/gpu/prefix-sum.ts';
import { exclusiveScanReference } from '../../src/reference/radix-sort.ts';
import { InputError } from '../../src/errors.ts';
import { useGpu } from '../helpers/gpu.ts';

const gpu = useGpu();

function randomValues(n: number, max: number, seed: number): Uint32Array {
  let s = seed >>> 0;
  const out = new Uint32Array(n);
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s % max;
  }
  return out;
}

async function scanOnGpu(scan: PrefixSum, values: Uint32Array): Promise<Uint32Array> {
  const g = gpu();
  const input = g.upload('scan input', values);
  const output = g.buffer('scan output', (values.length + 1) * 4);
  await g.run('scan', (enc) => scan.scanExclusive(enc, input, output, values.length));
  const out = await g.readU32(output, values.length + 1);
  input.destroy();
  output.destroy();
  return out;
}

function firstMismatch(a: Uint32Array, b: Uint32Array): number {
  expect(a.length).toBe(b.length);
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return i;
  return -1;
}

describe.each([
  ['blocks of one 8-lane subgroup where usable', { subgroups: true, laneBlocks: true }],
  ['256-invocation blocks, subgroup scans where usable', { subgroups: true, laneBlocks: false }],
  ['workgroup-memory fallback', { subgroups: false }],
] as const)('prefix sum (%s)', (_name, options) => {
  // One level, an exact block, two levels, a ragged two-level count, and three levels.
  it.each([0, 1, 1000, 1023, 1024, 5000, 70_001, 1_100_000])('scans %i values', async (n) => {
    const scan = await PrefixSum.create(gpu(), options);
    if (!options.subgroups) expect(scan.usesSubgroups).toBe(false);
    const laneBlocks = 'laneBlocks' in options && options.laneBlocks && (await subgroupLayoutSize(gpu())) >= 8;
    expect(scan.usesLaneBlocks).toBe(laneBlocks);
    const values = randomValues(n, n > 100_000 ? 7 : 1000, n + 3);
    const out = await scanOnGpu(scan, values);
    expect(firstMismatch(out, exclusiveScanReference(values))).toBe(-1);
    scan.destroy();
  });
});

describe('prefix sum', () => {
  it('reuses its temporaries for several scans of different sizes in one encoder', async () => {
    const g = gpu();
    const scan = await PrefixSum.create(g);
    const a = randomValues(3000, 50, 1);
    const b = randomValues(200_000, 50, 2);
    const [ia, ib] = [g.upload('a', a), g.upload('b', b)];
    const [oa, ob] = [g.buffer('oa', (a.length + 1) * 4), g.buffer('ob', (b.length + 1) * 4)];
    await g.run('two scans', (enc) => {
      scan.scanExclusive(enc, ia, oa, a.length);
      scan.scanExclusive(enc, ib, ob, b.length);
    });
    expect(firstMismatch(await g.readU32(oa, a.length + 1), exclusiveScanReference(a))).toBe(-1);
    expect(firstMismatch(await g.readU32(ob, b.length + 1), exclusiveScanReference(b))).toBe(-1);
  });

  it('rejects an output without room for the total', async () => {
    const g = gpu();
    const scan = await PrefixSum.create(g);
    const input = g.buffer('in', 40);
    const output = g.buffer('out', 40);
    const enc = g.device.createCommandEncoder();
    expect(() => scan.scanExclusive(enc, input, output, 10)).toThrow(InputError);
    expect(() => scan.scanExclusive(enc, input, input, 5)).toThrow(/different buffers/);
  });
});
