import { describe, expect, it } from 'vitest';
import { RadixSorter, bitsForMaxKey } from '../../src/gpu/radix-sort.ts';
import { sortPairsReference } from '../../src/reference/radix-sort.ts';
import { BufferUsage } from '../../src/gpu/gpu.ts';
import { subgroupLayoutSize } from '../../src/gpu/prefix-sum.ts';
import { InputError } from '../../src/errors.ts';
import { useGpu } from '../helpers/gpu.ts';

const gpu = useGpu();

function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0);
}

/** Random keys over all 32 bits, or drawn from `distinct` values when given (many ties). */
function randomKeys(n: number, seed: number, distinct?: number): Uint32Array {
  const next = lcg(seed);
  const pool = distinct ? Uint32Array.from({ length: distinct }, () => next()) : null;
  return Uint32Array.from({ length: n }, () => (pool ? pool[next() % pool.length] : next()));
}

async function sortOnGpu(sorter: RadixSorter, keys: Uint32Array, values: Uint32Array, bits: number) {
  const g = gpu();
  const kb = g.upload('keys', keys);
  const vb = g.upload('values', values);
  let out = { keys: kb, values: vb };
  await g.run('sort', (enc) => (out = sorter.sort(enc, kb, vb, keys.length, bits)));
  const result = { keys: await g.readU32(out.keys, keys.length), values: await g.readU32(out.values, keys.length) };
  kb.destroy();
  vb.destroy();
  return result;
}

function mismatches(a: Uint32Array, b: Uint32Array): number {
  expect(a.length).toBe(b.length);
  let n = 0;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) n++;
  return n;
}

describe.each([
  ['256-pair blocks of one 8-lane subgroup where usable', { subgroups: true, laneBlocks: true }],
  ['1024-pair blocks, subgroup scans where usable', { subgroups: true, laneBlocks: false }],
  ['workgroup-memory fallback', { subgroups: false }],
] as const)('radix sort (%s)', (_name, options) => {
  const cases: [number, number, number | undefined][] = [
    [0, 32, undefined],
    [1, 32, undefined],
    [1000, 8, undefined],
    [1023, 13, undefined],
    [1023, 32, undefined],
    [70_001, 32, undefined],
    [70_001, 13, 40], // many equal keys: stability shows in the values
    [70_001, 32, 3], // three keys: long runs of one digit in every block
    [5000, 4, 3], // one pass: the result is copied back from the temporaries
  ];
  it.each(cases)('sorts %i pairs on %i bits (distinct keys: %s)', async (n, bits, distinct) => {
    const sorter = await RadixSorter.create(gpu(), options);
    if (!options.subgroups) expect(sorter.usesSubgroups).toBe(false);
    // The lane layout needs a whole 8-lane workgroup in one subgroup.
    const laneBlocks = 'laneBlocks' in options && options.laneBlocks && (await subgroupLayoutSize(gpu())) >= 8;
    expect(sorter.usesLaneBlocks).toBe(laneBlocks);
    const keys = randomKeys(n, n * 31 + bits, distinct);
    // Values are the input positions, so any instability or lost pair shows.
    const values = Uint32Array.from({ length: n }, (_, i) => i);
    const got = await sortOnGpu(sorter, keys, values, bits);
    const want = sortPairsReference(keys, values, bits);
    expect(mismatches(got.keys, want.keys)).toBe(0);
    expect(mismatches(got.values, want.values)).toBe(0);
    sorter.destroy();
  });
});

describe('radix sort', () => {
  it('sorts two arrays of different sizes recorded in one encoder', async () => {
    const g = gpu();
    const sorter = await RadixSorter.create(g);
    const a = randomKeys(3000, 5);
    const b = randomKeys(20_000, 6, 100);
    const ids = (n: number) => Uint32Array.from({ length: n }, (_, i) => i);
    const bufs = [a, b].map((k) => ({ keys: g.upload('k', k), values: g.upload('v', ids(k.length)) }));
    const outs: { keys: GPUBuffer; values: GPUBuffer }[] = [];
    await g.run('two sorts', (enc) => {
      outs.push(sorter.sort(enc, bufs[0].keys, bufs[0].values, a.length, 32));
      outs.push(sorter.sort(enc, bufs[1].keys, bufs[1].values, b.length, 24));
    });
    for (const [i, [keys, bits]] of ([[a, 32], [b, 24]] as const).entries()) {
      const want = sortPairsReference(keys, ids(keys.length), bits);
      expect(mismatches(await g.readU32(outs[i].keys, keys.length), want.keys)).toBe(0);
      expect(mismatches(await g.readU32(outs[i].values, keys.length), want.values)).toBe(0);
    }
  });

  it('returns its temporaries when the inputs cannot be copied into', async () => {
    const g = gpu();
    const sorter = await RadixSorter.create(g);
    const keys = randomKeys(2000, 9);
    const values = Uint32Array.from({ length: 2000 }, (_, i) => i);
    // Without COPY_DST (Gpu.upload always adds it, so map at creation here).
    const noCopyDst = (data: Uint32Array) => {
      const b = g.device.createBuffer({ size: data.byteLength, usage: BufferUsage.STORAGE | BufferUsage.COPY_SRC, mappedAtCreation: true });
      new Uint32Array(b.getMappedRange()).set(data);
      b.unmap();
      return b;
    };
    const kb = noCopyDst(keys);
    const vb = noCopyDst(values);
    let out = { keys: kb, values: vb };
    await g.run('sort', (enc) => (out = sorter.sort(enc, kb, vb, 2000, 12)));
    expect(out.keys).not.toBe(kb);
    const want = sortPairsReference(keys, values, 12);
    expect(mismatches(await g.readU32(out.values, 2000), want.values)).toBe(0);
  });

  it('counts the bits a key range needs', () => {
    for (const [max, bits] of [[0, 0], [1, 1], [255, 8], [256, 9], [0xffffffff, 32]]) {
      expect(bitsForMaxKey(max)).toBe(bits);
      if (max > 0) expect(max < 2 ** bits && max >= 2 ** (bits - 1)).toBe(true);
    }
    expect(() => bitsForMaxKey(-1)).toThrow(InputError);
  });

  it('rejects bad arguments with an InputError', async () => {
    const g = gpu();
    const sorter = await RadixSorter.create(g);
    const k = g.buffer('k', 40);
    const v = g.buffer('v', 40);
    const enc = g.device.createCommandEncoder();
    expect(() => sorter.sort(enc, k, v, 11, 32)).toThrow(InputError);
    expect(() => sorter.sort(enc, k, v, 10, 33)).toThrow(/bits/);
    expect(() => sorter.sort(enc, k, k, 10, 32)).toThrow(/different buffers/);
  });
});
