/**
 * Keeps Dawn's event polling in Node from taking a CPU core away from the GPU's work.
 *
 * While any promise of Dawn's is pending (onSubmittedWorkDone, mapAsync, popErrorScope),
 * the `webgpu` package polls by re-arming a native callback with `setImmediate`, which
 * spins the main thread at 100%. On a software adapter (lavapipe runs one worker thread per
 * core) that spin takes a core from the kernels: on the 2-core machine, rasterize_bwd of
 * the 100k-splat bench ran 1.7x slower and the default job 1.2x. Here each of those polls
 * first sleeps `sleepMs` in a futex wait (Atomics.wait: no CPU, and finer than a timer's
 * millisecond, so short waits on a real GPU lose almost nothing). Only native callbacks are
 * delayed: JavaScript callbacks passed to setImmediate run as usual.
 */
import { InputError } from '../errors.ts';

export interface PollingOptions {
  /** The sleep before each poll (ms). */
  sleepMs: number;
}

/** From RL4D_POLL (`off`, or the sleep in ms); default 0.1 ms. */
export function pollingFromEnv(value = process.env.RL4D_POLL): PollingOptions | null {
  if (value === 'off') return null;
  if (!value) return { sleepMs: 0.1 };
  const sleepMs = Number(value);
  if (!(sleepMs > 0 && sleepMs <= 100)) throw new InputError(`RL4D_POLL='${value}': expected 'off' or the sleep between polls in ms, above 0 and at most 100 (e.g. 0.1).`);
  return { sleepMs };
}

let installed = false;

// Dawn's poller is a native function; bound JavaScript functions print as native too, but
// are named 'bound ...'.
function isNativePoller(fn: unknown): boolean {
  return typeof fn === 'function' && !fn.name.startsWith('bound ') && /\{\s*\[native code\]\s*\}\s*$/.test(Function.prototype.toString.call(fn));
}

/** Replaces the global setImmediate once per process (idempotent); null options do nothing. */
export function throttleNativePolling(options: PollingOptions | null): void {
  if (installed || !options) return;
  installed = true;
  const immediate = globalThis.setImmediate;
  const sleeper = new Int32Array(new SharedArrayBuffer(4));
  const throttled = ((callback: (...args: unknown[]) => void, ...args: unknown[]) => {
    if (isNativePoller(callback)) Atomics.wait(sleeper, 0, 0, options.sleepMs);
    return immediate(callback, ...args);
  }) as unknown as typeof setImmediate;
  // util.promisify(setImmediate) keeps working.
  const custom = Symbol.for('nodejs.util.promisify.custom');
  (throttled as any)[custom] = (immediate as any)[custom];
  globalThis.setImmediate = throttled;
}
