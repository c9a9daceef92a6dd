// One device per test file, acquired in beforeAll and destroyed in afterAll (DESIGN.md).
import { afterAll, beforeAll, vi } from 'vitest';
import { Gpu } from '../../src/gpu/gpu.ts';

export function useGpu(): () => Gpu {
  let gpu: Gpu | undefined;
  beforeAll(async () => {
    gpu = await Gpu.create();
  });
  afterAll(() => gpu?.destroy());
  return () => {
    if (!gpu) throw new Error('GPU not acquired yet');
    return gpu;
  };
}

/**
 * Runs `body` as on a device whose storage bindings hold at most `limit` bytes
 * (RL4D_BUFFER_LIMIT, read on each use; the device's own limits when undefined), then
 * restores the variable.
 */
export async function withBindingLimit<T>(limit: string | undefined, body: () => Promise<T>): Promise<T> {
  const before = process.env.RL4D_BUFFER_LIMIT;
  const set = (value: string | undefined) => {
    if (value === undefined) delete process.env.RL4D_BUFFER_LIMIT;
    else process.env.RL4D_BUFFER_LIMIT = value;
  };
  set(limit);
  try {
    return await body();
  } finally {
    set(before);
  }
}

/** Runs `body` under `limit` (withBindingLimit) and returns how many dispatches `gpu` recorded. */
export async function dispatchesUnderLimit(gpu: Gpu, limit: string | undefined, body: () => Promise<void>): Promise<number> {
  const spy = vi.spyOn(gpu, 'dispatch');
  try {
    await withBindingLimit(limit, body);
    return spy.mock.calls.length;
  } finally {
    spy.mockRestore();
  }
}
