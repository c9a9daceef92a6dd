/**
 * The adapter's FMA throughput, measured in the same run as a benchmark so that kernels
 * can be reported as a fraction of the machine's limit. Timed with GPU timestamps where
 * the adapter has them, with wall time around a submit otherwise.
 */
import type { Gpu } from '../src/gpu/gpu.ts';
import { PassProfiler } from '../src/gpu/profiler.ts';
import { median } from './harness.ts';

const FMAS_PER_ITERATION = 16; // four vec4 chains
const WORKGROUP = 256;

export interface FmaThroughput {
  fmaPerSecond: number;
  /** Median time of one dispatch. */
  ms: number;
  timing: 'gpu-timestamps' | 'wall';
  fmasPerDispatch: number;
}

export interface FmaOptions {
  invocations?: number;
  iterations?: number;
  repeats?: number;
}

export async function measureFmaThroughput(gpu: Gpu, options: FmaOptions = {}): Promise<FmaThroughput> {
  const invocations = options.invocations ?? 64 * 1024;
  const iterations = options.iterations ?? 512;
  const repeats = Math.max(1, options.repeats ?? 5);
  const pipeline = await gpu.kernel({ file: 'bench/fma.wgsl', entry: 'fma_chain' });
  const params = gpu.uniform('fma params', new Uint32Array([iterations, invocations]));
  const sink = gpu.buffer('fma sink', invocations * 4);
  const profiler = new PassProfiler(gpu, 1);
  const workgroups = Math.ceil(invocations / WORKGROUP);
  const times: number[] = [];
  let wallOnly = !profiler.enabled;
  try {
    // The first dispatch warms up (pipeline compilation in the driver, page faults).
    for (let r = 0; r <= repeats; r++) {
      const t0 = performance.now();
      await gpu.run('fma peak', (enc) => gpu.dispatch(enc, pipeline, [params, sink], workgroups, profiler.pass('fma')));
      const wall = performance.now() - t0;
      const gpuMs = profiler.enabled ? (await profiler.read()).get('fma') : undefined;
      if (r === 0) continue;
      if (gpuMs !== undefined && gpuMs > 0) times.push(gpuMs);
      else {
        times.push(wall);
        wallOnly = true;
      }
    }
    const sinkValues = await gpu.readF32(sink, 1);
    if (!Number.isFinite(sinkValues[0])) throw new Error('FMA probe produced a non-finite value');
  } finally {
    sink.destroy();
    params.destroy();
    profiler.destroy();
  }
  const ms = median(times);
  const fmasPerDispatch = invocations * iterations * FMAS_PER_ITERATION;
  return { fmaPerSecond: fmasPerDispatch / (ms / 1000), ms, timing: wallOnly ? 'wall' : 'gpu-timestamps', fmasPerDispatch };
}
