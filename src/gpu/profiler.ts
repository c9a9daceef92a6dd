/**
 * GPU timestamps per labelled pass, where the adapter has `timestamp-query`; otherwise the
 * profiler records nothing and `read` returns an empty map (callers fall back to wall time).
 */
import { BufferUsage, type Gpu } from './gpu.ts';

export class PassProfiler {
  private readonly gpu: Gpu;
  private readonly capacity: number;
  private readonly querySet: GPUQuerySet | null;
  private readonly labels: string[] = [];

  constructor(gpu: Gpu, capacity = 256) {
    this.gpu = gpu;
    this.capacity = capacity;
    this.querySet = gpu.hasTimestamps ? gpu.device.createQuerySet({ type: 'timestamp', count: capacity * 2 }) : null;
  }

  get enabled(): boolean {
    return this.querySet !== null;
  }

  /** Timestamp writes for the next pass, or undefined when disabled or full. */
  pass(label: string): GPUComputePassTimestampWrites | undefined {
    if (!this.querySet || this.labels.length >= this.capacity) return undefined;
    const i = this.labels.length;
    this.labels.push(label);
    return { querySet: this.querySet, beginningOfPassWriteIndex: 2 * i, endOfPassWriteIndex: 2 * i + 1 };
  }

  /** Milliseconds per label (summed over passes with the same label); resets the profiler. */
  async read(): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    const n = this.labels.length;
    if (!this.querySet || n === 0) return out;
    const resolve = this.gpu.device.createBuffer({ size: n * 16, usage: BufferUsage.QUERY_RESOLVE | BufferUsage.COPY_SRC });
    await this.gpu.run('profiler resolve', (enc) => enc.resolveQuerySet(this.querySet!, 0, 2 * n, resolve, 0));
    const times = new BigUint64Array(await this.gpu.read(resolve));
    resolve.destroy();
    for (let i = 0; i < n; i++) {
      const ms = Number(times[2 * i + 1] - times[2 * i]) / 1e6;
      out.set(this.labels[i], (out.get(this.labels[i]) ?? 0) + Math.max(0, ms));
    }
    this.labels.length = 0;
    return out;
  }

  destroy(): void {
    this.querySet?.destroy();
  }
}
