// Small fields and cameras shared by the NeRF tests.
import { orbitCamera, type Camera } from '../../src/math/camera.ts';
import type { RadianceFieldConfig } from '../../src/scene/nerf/layout.ts';
import { Rng } from '../../src/train/rng.ts';

export function smallConfig(over: Partial<RadianceFieldConfig> = {}): RadianceFieldConfig {
  return {
    levels: 4,
    featuresPerLevel: 2,
    log2TableSize: 10,
    baseResolution: 4,
    finestResolution: 32,
    hiddenWidth: 16,
    viewDependent: true,
    bounds: { min: [-1, -1, -1], max: [1, 1, 1] },
    seed: 7,
    occupancyResolution: 16,
    featureInit: 0.5,
    ...over,
  };
}

export function views(count: number, size: number, radius = 3, elevation = 20): Camera[] {
  return Array.from({ length: count }, (_, i) =>
    orbitCamera({ elevation: elevation + 10 * (i % 2), azimuth: 30 + (360 * i) / count, radius, fovY: 50, width: size, height: size }),
  );
}

export function randomArray(n: number, seed: number, lo = -1, hi = 1): Float32Array {
  const r = new Rng(seed);
  return Float32Array.from({ length: n }, () => r.uniform(lo, hi));
}
