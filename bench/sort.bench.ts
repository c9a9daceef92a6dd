/**
 * GPU radix sort throughput of (key, value) u32 pairs at 100k and 1M pairs, each kernel
 * layout the device can run (lane blocks, workgroup blocks with subgroup scans, workgroup
 * memory), against Array.prototype.sort of the same pairs (the ratio is the result).
 */
import type { Gpu } from '../src/gpu/gpu.ts';
import type { ScanKernelOptions } from '../src/gpu/prefix-sum.ts';
import { RadixSorter } from '../src/gpu/radix-sort.ts';
import { measureFmaThroughput } from './fma-peak.ts';
import { printTable, timeIt, writeResults, type Row } from './harness.ts';

function randomKeys(n: number, seed: number): Uint32Array {
  let s = seed >>> 0;
  return Uint32Array.from({ length: n }, () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0));
}

function arraySortPairs(keys: Uint32Array): number[] {
  const order = Array.from({ length: keys.length }, (_, i) => i);
  return order.sort((a, b) => keys[a] - keys[b]);
}

export async function run(gpu: Gpu, opts: { quick: boolean }): Promise<void> {
  const sizes = [100_000, 1_000_000];
  const bits = 32;
  const iterations = opts.quick ? 3 : 7;
  const rows: Row[] = [];
  const variants: ScanKernelOptions[] = gpu.hasSubgroups
    ? [{ subgroups: true, laneBlocks: true }, { subgroups: true, laneBlocks: false }, { subgroups: false }]
    : [{ subgroups: false }];
  for (const n of sizes) {
    const keys = randomKeys(n, n);
    const values = Uint32Array.from({ length: n }, (_, i) => i);
    const baseline = await timeIt(() => arraySortPairs(keys), { warmup: 1, iterations });
    const want = arraySortPairs(keys);
    for (const options of variants) {
      const sorter = await RadixSorter.create(gpu, options);
      const pristineKeys = gpu.upload('bench keys', keys);
      const pristineValues = gpu.upload('bench values', values);
      const workKeys = gpu.buffer('bench work keys', n * 4);
      const workValues = gpu.buffer('bench work values', n * 4);
      let out = { keys: workKeys, values: workValues };
      // Each run sorts fresh random keys: restore them in the same submission (a copy of
      // 8 bytes per pair, small next to 8 passes over the data).
      const sortOnce = () =>
        gpu.run('bench sort', (enc) => {
          enc.copyBufferToBuffer(pristineKeys, 0, workKeys, 0, n * 4);
          enc.copyBufferToBuffer(pristineValues, 0, workValues, 0, n * 4);
          out = sorter.sort(enc, workKeys, workValues, n, bits);
        });
      const t = await timeIt(sortOnce, { warmup: 1, iterations });
      const got = await gpu.readU32(out.values, n);
      for (let i = 0; i < n; i++) if (got[i] !== want[i]) throw new Error(`GPU sort of ${n} pairs is wrong at ${i}`);
      rows.push({
        pairs: n,
        bits,
        variant: sorter.usesLaneBlocks ? 'lane blocks' : sorter.usesSubgroups ? 'subgroups' : 'workgroup memory',
        gpuMedianMs: t.medianMs,
        gpuMinMs: t.minMs,
        arraySortMs: baseline.medianMs,
        speedupVsArraySort: baseline.medianMs / t.medianMs,
        mPairsPerSecond: n / t.medianMs / 1e3,
      });
      sorter.destroy();
      for (const b of [pristineKeys, pristineValues, workKeys, workValues]) b.destroy();
    }
  }
  const fma = await measureFmaThroughput(gpu, opts.quick ? { repeats: 3 } : {});
  printTable('radix sort (GPU, wall time incl. submit) vs Array.prototype.sort', rows);
  console.log(`adapter FMA throughput: ${(fma.fmaPerSecond / 1e9).toFixed(2)} GFMA/s (${fma.timing})`);
  const path = await writeResults('sort', {
    adapter: gpu.summary,
    quick: opts.quick,
    iterations,
    baseline: 'Array.prototype.sort of an index array by key (stable pair sort), same run',
    fma,
    rows,
  });
  console.log(`wrote ${path}`);
}
