// One device per test file, acquired in beforeAll and destroyed in afterAll (DESIGN.md).
import { afterAll, beforeAll } from 'vitest';
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
