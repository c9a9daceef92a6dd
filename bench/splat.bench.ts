/**
 * The splat renderer: forward and forward+backward time per step for 10k, 100k and 1M
 * splats at 256x256 and 512x512 with 1 and 4 views; GPU time of each stage (timestamps);
 * the sort timed on its own at the same sizes; the ratio to the TypeScript reference where
 * it can run; and splat-pixel pairs per second against the adapter's FMA throughput.
 */
import type { Gpu } from '../src/gpu/gpu.ts';
import { PassProfiler } from '../src/gpu/profiler.ts';
import { bitsForMaxKey, RadixSorter } from '../src/gpu/radix-sort.ts';
import { InputError } from '../src/errors.ts';
import { orbitCamera, type Camera } from '../src/math/camera.ts';
import { SplatRenderer } from '../src/render/splat/splat-renderer.ts';
import { GaussianCloud, GaussianGrads } from '../src/scene/gaussian-cloud.ts';
import { randomGaussiansInSphere } from '../src/scene/gaussian-init.ts';
import { referenceBackward, referenceRender } from '../src/reference/splat/render.ts';
import { measureFmaThroughput } from './fma-peak.ts';
import { printTable, timeIt, writeResults, type Row } from './harness.ts';

function views(count: number, size: number): Camera[] {
  return Array.from({ length: count }, (_, i) => orbitCamera({ elevation: 15, azimuth: 90 * i, radius: 3, width: size, height: size, fovY: 50 }));
}

async function sortTime(gpu: Gpu, sorter: RadixSorter, count: number, bits: number, iterations: number): Promise<number> {
  if (count <= 1) return 0;
  const keys = gpu.buffer('bench sort keys', count * 4);
  const values = gpu.buffer('bench sort values', count * 4);
  const t = await timeIt(() => gpu.run('bench sort', (enc) => sorter.sort(enc, keys, values, count, bits)), { warmup: 1, iterations });
  keys.destroy();
  values.destroy();
  return t.medianMs;
}

export async function run(gpu: Gpu, opts: { quick: boolean }): Promise<void> {
  const counts = opts.quick ? [10_000, 100_000] : [10_000, 100_000, 1_000_000];
  const sizes = opts.quick ? [256] : [256, 512];
  const viewCounts = [1, 4];
  // Fewer repetitions for the big sizes, so that the full run stays within a few minutes on
  // the 2-core lavapipe machine; one untimed step first below 1M splats (the first step of a
  // size grows the sorter's and scan's temporaries).
  const iterationsFor = (n: number) => (opts.quick ? 2 : n >= 1_000_000 ? 1 : 3);
  const warmupFor = (n: number) => (n >= 1_000_000 ? 0 : 1);
  const renderer = await SplatRenderer.create(gpu);
  const sorter = await RadixSorter.create(gpu);
  const profiler = new PassProfiler(gpu);
  const fma = await measureFmaThroughput(gpu, opts.quick ? { repeats: 3 } : {});
  const rows: Row[] = [];
  for (const n of counts) {
    // SH degree 3 throughout; at 1M splats its 192 MB coefficient buffer is bound in two
    // ranges and 4 views run in chunks of 2 (lavapipe's 128 MiB binding limit).
    const shDegree = 3;
    const data = randomGaussiansInSphere({ count: n, radius: 1, shDegree, seed: n, opacity: 0.6, shRestStd: 0.1 });
    let cloud: GaussianCloud;
    let grads: GaussianGrads;
    try {
      cloud = GaussianCloud.fromData(gpu, data);
      grads = GaussianGrads.create(gpu, n, shDegree);
    } catch (e) {
      // A cloud over the device's per-binding limit (1M splats of SH degree 3 on lavapipe):
      // every size is recorded as refused, with the limit in the message.
      if (!(e instanceof InputError)) throw e;
      for (const size of sizes) for (const v of viewCounts) rows.push({ splats: n, shDegree, size, views: v, skipped: e.message });
      continue;
    }
    for (const size of sizes)
      for (const v of viewCounts) {
        const cams = views(v, size);
        const row: Row = { splats: n, shDegree, size, views: v, iterations: iterationsFor(n) };
        try {
          const pixels = v * size * size;
          const cot = gpu.upload('bench rgb cotangent', new Float32Array(pixels * 3).fill(1 / pixels));
          const iterations = iterationsFor(n);
          const fwd = await timeIt(async () => (await renderer.forward(cloud, cams)).destroy(), { warmup: warmupFor(n), iterations });
          const step = await timeIt(async () => {
            const f = await renderer.forward(cloud, cams);
            await renderer.backward(f, { rgb: cot }, grads);
            f.destroy();
          }, { warmup: warmupFor(n), iterations });
          renderer.profiler = profiler;
          const f = await renderer.forward(cloud, cams);
          await renderer.backward(f, { rgb: cot }, grads);
          renderer.profiler = null;
          const stages = await profiler.read();
          const isects = f.state.numIsects;
          const viewChunks = f.state.chunks.length;
          const depthSorts = f.state.chunks.map((c) => c.depthSort);
          f.destroy();
          cot.destroy();
          const tiles = Math.ceil(size / 16) ** 2;
          // The depth sorts (visible pairs of each chunk, on their depth range's bits) and the tile sort.
          let sortMs = await sortTime(gpu, sorter, isects, bitsForMaxKey(v * tiles), iterations);
          for (const d of depthSorts) sortMs += await sortTime(gpu, sorter, d.pairs, d.bits, iterations);
          const rasterMs = stages.get('rasterize') ?? NaN;
          // Upper bound on pairs evaluated: every pixel of a tile against each of its splats.
          const pairs = isects * 256;
          Object.assign(row, {
            fwdMs: fwd.medianMs,
            fwdBwdMs: step.medianMs,
            projectMs: (stages.get('project') ?? NaN) + (stages.get('bin') ?? 0),
            sortMs,
            rasterizeMs: rasterMs,
            backwardMs: (stages.get('rasterize_bwd') ?? NaN) + (stages.get('project_bwd') ?? 0),
            intersections: isects,
            viewChunks,
            pairsPerSecond: pairs / (rasterMs / 1e3),
            pairsPerFma: pairs / (rasterMs / 1e3) / fma.fmaPerSecond,
          });
          if (n === counts[0] && size === 256 && v === 1) {
            const t0 = performance.now();
            referenceRender(data, cams);
            const refFwd = performance.now() - t0;
            const t1 = performance.now();
            referenceBackward(data, cams, { rgb: new Float32Array(pixels * 3).fill(1 / pixels) });
            const refStep = performance.now() - t1;
            Object.assign(row, { referenceFwdMs: refFwd, referenceFwdBwdMs: refStep, speedupFwd: refFwd / fwd.medianMs, speedupFwdBwd: refStep / step.medianMs });
          }
        } catch (e) {
          if (!(e instanceof InputError)) throw e;
          row.skipped = e.message;
        }
        rows.push(row);
        console.log(JSON.stringify(row));
      }
    grads.destroy();
    cloud.destroy();
  }
  profiler.destroy();
  sorter.destroy();
  renderer.destroy();
  printTable('splat renderer: wall ms per step (median), GPU ms per stage', rows);
  console.log(`adapter FMA throughput: ${(fma.fmaPerSecond / 1e9).toFixed(2)} GFMA/s (${fma.timing})`);
  const path = await writeResults('splat', {
    adapter: gpu.summary,
    quick: opts.quick,
    iterations: 'per row (3 below 1M splats after one untimed step, 1 at 1M without)',
    fma,
    notes: 'fwdMs/fwdBwdMs: wall time per step incl. submits and the intersection-count readback; stage columns: GPU timestamps (project includes binning; sortMs: the radix sorts timed alone at the same sizes and key bits: the depth sort of each chunk over its visible pairs, the tile sort over the intersections); viewChunks: chunks the views were rendered in (the [views][splats] buffers of each fit one binding); pairsPerSecond: intersections x 256 pixels / rasterize time (an upper bound on pairs, early termination skips some); speedup columns: TypeScript f64 reference time / GPU time.',
    rows,
  });
  console.log(`wrote ${path}`);
}
