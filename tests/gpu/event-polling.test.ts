// Dawn's event polling must not spin the main thread through a long GPU wait (it took a
// core from lavapipe's workers), and JavaScript setImmediate callbacks keep their timing.
import { performance } from 'node:perf_hooks';
import { describe, expect, it } from 'vitest';
import { pollingFromEnv } from '../../src/gpu/event-polling.ts';
import { InputError } from '../../src/errors.ts';
import { useGpu } from '../helpers/gpu.ts';

describe('Dawn event polling', () => {
  const gpu = useGpu();

  it('leaves the event loop mostly idle while the GPU works for a while', async () => {
    const g = gpu();
    const pipeline = await g.kernel({ file: 'bench/fma.wgsl', entry: 'fma_chain' });
    const invocations = 64 * 1024;
    const params = g.uniform('fma params', new Uint32Array([256, invocations]));
    const sink = g.buffer('fma sink', invocations * 4);
    const submit = (dispatches: number) => g.run('long wait', (enc) => {
      for (let i = 0; i < dispatches; i++) g.dispatch(enc, pipeline, [params, sink], invocations / 256);
    });
    // Scale the work until one wait lasts at least 150 ms on this adapter.
    let dispatches = 1;
    let ms = 0;
    for (;;) {
      const t = performance.now();
      await submit(dispatches);
      ms = performance.now() - t;
      if (ms >= 150 || dispatches >= 1 << 16) break;
      dispatches *= Math.max(2, Math.ceil(150 / Math.max(ms, 1)));
    }
    const before = performance.eventLoopUtilization();
    await submit(dispatches);
    const used = performance.eventLoopUtilization(before);
    params.destroy();
    sink.destroy();
    // Spinning on setImmediate keeps the loop busy about 100% of the wait.
    expect(used.utilization).toBeLessThan(0.5);
  });

  it('runs JavaScript setImmediate callbacks before timers, as Node does', async () => {
    gpu();
    const order: string[] = [];
    await new Promise<void>((resolve) => {
      setTimeout(() => { order.push('timeout'); resolve(); }, 1);
      setImmediate(() => order.push('immediate'));
      setImmediate(function bound(this: unknown) { order.push('bound'); }.bind(null));
    });
    expect(order).toEqual(['immediate', 'bound', 'timeout']);
  });

  it('reads RL4D_POLL', () => {
    expect(pollingFromEnv('')).toEqual({ spinMs: 2, sleepMs: 1 });
    expect(pollingFromEnv('off')).toBeNull();
    expect(pollingFromEnv('0,4')).toEqual({ spinMs: 0, sleepMs: 4 });
    expect(() => pollingFromEnv('fast')).toThrow(InputError);
    expect(() => pollingFromEnv('2,0')).toThrow(/RL4D_POLL/);
  });
});
