// Dawn's event polling must not spin the main thread through a long GPU wait (it took a
// core from lavapipe's workers), and JavaScript setImmediate callbacks keep their timing.
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { pollingFromEnv } from '../../src/gpu/event-polling.ts';
import { InputError } from '../../src/errors.ts';
import { useGpu } from '../helpers/gpu.ts';

describe('Dawn event polling', () => {
  const gpu = useGpu();

  // CPU seconds of this thread alone, from Linux's /proc (process.cpuUsage counts lavapipe's
  // worker threads too): utime + stime, in clock ticks of 10 ms.
  const THREAD_STAT = '/proc/thread-self/stat';
  const threadCpuSeconds = () => {
    const fields = readFileSync(THREAD_STAT, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  };

  it.skipIf(!existsSync(THREAD_STAT))('keeps this thread mostly off the CPU while the GPU works for a while', async () => {
    const g = gpu();
    const pipeline = await g.kernel({ file: 'bench/fma.wgsl', entry: 'fma_chain' });
    const invocations = 64 * 1024;
    const params = g.uniform('fma params', new Uint32Array([256, invocations]));
    const sink = g.buffer('fma sink', invocations * 4);
    const submit = (dispatches: number) => g.run('long wait', (enc) => {
      for (let i = 0; i < dispatches; i++) g.dispatch(enc, pipeline, [params, sink], invocations / 256);
    });
    // Scale the work until one wait lasts at least 300 ms on this adapter.
    let dispatches = 1;
    let ms = 0;
    for (;;) {
      const t = performance.now();
      await submit(dispatches);
      ms = performance.now() - t;
      if (ms >= 300 || dispatches >= 1 << 16) break;
      dispatches *= Math.max(2, Math.ceil(300 / Math.max(ms, 1)));
    }
    const cpu0 = threadCpuSeconds();
    const t0 = performance.now();
    await submit(dispatches);
    const wall = (performance.now() - t0) / 1000;
    const cpu = threadCpuSeconds() - cpu0;
    params.destroy();
    sink.destroy();
    // Spinning on setImmediate keeps this thread on the CPU for about all of the wait.
    expect(cpu).toBeLessThan(0.5 * wall);
  });

  it('runs JavaScript setImmediate callbacks, bound ones too, without the sleep', async () => {
    gpu();
    const steps = 2000;
    const t0 = performance.now();
    let calls = 0;
    await new Promise<void>((resolve) => {
      const tick = (step: number) => {
        calls++;
        if (step === steps) resolve();
        // Alternate plain and bound callbacks (a bound function prints as native code).
        else if (step % 2) setImmediate(tick, step + 1);
        else setImmediate(tick.bind(null, step + 1));
      };
      setImmediate(tick, 1);
    });
    expect(calls).toBe(steps);
    // Sleeping 0.1 ms before each would take 200 ms.
    expect(performance.now() - t0).toBeLessThan(100);
  });

  it('reads RL4D_POLL', () => {
    expect(pollingFromEnv('')).toEqual({ sleepMs: 0.1 });
    expect(pollingFromEnv('off')).toBeNull();
    expect(pollingFromEnv('0.5')).toEqual({ sleepMs: 0.5 });
    expect(() => pollingFromEnv('fast')).toThrow(InputError);
    expect(() => pollingFromEnv('0')).toThrow(/RL4D_POLL/);
  });
});
