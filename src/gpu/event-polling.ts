/**
 * Keeps Dawn's event polling in Node from taking a CPU core away from the GPU's work.
 *
 * While any promise of Dawn's is pending (onSubmittedWorkDone, mapAsync, popErrorScope),
 * the `webgpu` package polls by re-arming a native callback with `setImmediate`, which
 * spins the main thread at 100%. On a software adapter (lavapipe runs one worker thread per
 * core) that spin takes a core from the kernels: on the 2-core machine, rasterize_bwd of
 * the 100k-splat bench ran 1.7x slower. Here, a wait polls at full rate for its first
 * `spinMs` (short waits on a real GPU stay as fast as before), then once per millisecond.
 * Only native callbacks are throttled: JavaScript callbacks passed to setImmediate run as
 * usual.
 */
import { InputError } from '../errors.ts';

export interface PollingOptions {
  /** How long a wait polls at full rate before it sleeps between polls (ms). */
  spinMs: number;
  /** The sleep between polls after that (ms; setTimeout's resolution is 1 ms). */
  sleepMs: number;
}

/** From RL4D_POLL (`off`, or `<spinMs>,<sleepMs>`); default 2 ms of spinning, then 1 ms sleeps. */
export function pollingFromEnv(value = process.env.RL4D_POLL): PollingOptions | null {
  if (value === 'off') return null;
  const defaults = { spinMs: 2, sleepMs: 1 };
  if (!value) return defaults;
  const [spinMs, sleepMs] = value.split(',').map(Number);
  if (!(spinMs >= 0) || !(sleepMs > 0)) throw new InputError(`RL4D_POLL='${value}': expected 'off' or '<spinMs>,<sleepMs>' (e.g. '2,1'), sleepMs above 0.`);
  return { spinMs, sleepMs };
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
  // Polls belong to one wait while each follows the last within this gap.
  const chainGapMs = Math.max(5, 3 * options.sleepMs);
  let chainStart = -Infinity;
  let lastPoll = -Infinity;
  const throttled = ((callback: (...args: unknown[]) => void, ...args: unknown[]) => {
    if (!isNativePoller(callback)) return immediate(callback, ...args);
    const now = performance.now();
    if (now - lastPoll > chainGapMs) chainStart = now;
    lastPoll = now;
    if (now - chainStart < options.spinMs) return immediate(callback, ...args);
    return setTimeout(callback, options.sleepMs, ...args);
  }) as unknown as typeof setImmediate;
  // util.promisify(setImmediate) keeps working.
  const custom = Symbol.for('nodejs.util.promisify.custom');
  (throttled as any)[custom] = (immediate as any)[custom];
  globalThis.setImmediate = throttled;
}
