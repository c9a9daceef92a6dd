/** Small synthetic splat scenes the io and viewer tests make themselves. */
import { emptyGaussians, SH_C0, type GaussianData } from '../../src/scene/gaussian-data.ts';

/** Deterministic uniform numbers in [0, 1) (mulberry32). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Splats on a Fibonacci sphere of `radius`, coloured by direction (red along +x, green
 * along +y, blue along +z), random rotations and opacities, random higher SH.
 */
export function coloredSphere(count: number, shDegree: number, seed = 1, radius = 1): GaussianData {
  const rand = seededRandom(seed);
  const data = emptyGaussians(count, shDegree);
  const K = (shDegree + 1) ** 2;
  const golden = Math.PI * (3 - Math.sqrt(5));
  const splatSize = (2.2 * radius) / Math.sqrt(count);
  for (let i = 0; i < count; i++) {
    const y = 1 - (2 * (i + 0.5)) / count;
    const r = Math.sqrt(1 - y * y);
    const dir = [Math.cos(golden * i) * r, y, Math.sin(golden * i) * r];
    for (let c = 0; c < 3; c++) {
      data.means[i * 3 + c] = dir[c] * radius;
      data.logScales[i * 3 + c] = Math.log(splatSize * (0.6 + 0.8 * rand()));
      const color = 0.15 + 0.7 * (0.5 + 0.5 * dir[c]);
      data.sh[i * K * 3 + c] = (color - 0.5) / SH_C0;
      for (let k = 1; k < K; k++) data.sh[(i * K + k) * 3 + c] = (rand() - 0.5) * 0.4;
    }
    for (let c = 0; c < 4; c++) data.quats[i * 4 + c] = rand() * 2 - 1;
    data.opacityLogits[i] = 1 + 3 * rand();
  }
  return data;
}
