/**
 * Plain-TypeScript references for shaders/rl/{noise,param_noise,noise_dot,noise_grad}.wgsl
 * (f64 sums): the counter-based Gaussian noise and the policy-gradient kernels built on it.
 */

export function pcgHash(v: number): number {
  const state = (Math.imul(v >>> 0, 747796405) + 2891336453) >>> 0;
  const word = Math.imul(((state >>> ((state >>> 28) + 4)) ^ state) >>> 0, 277803737) >>> 0;
  return ((word >>> 22) ^ word) >>> 0;
}

/** The same standard normal sample as `gaussian_noise(seed, index)` in WGSL. */
export function gaussianNoise(seed: number, index: number): number {
  const a = pcgHash((seed ^ pcgHash(index)) >>> 0);
  const b = pcgHash((a + 2654435769) >>> 0);
  const u1 = ((a >>> 8) + 0.5) / 16777216;
  const u2 = (b >>> 8) / 16777216;
  return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
}

/** target = base + scale * noise(seed, offset + i) */
export function perturbReference(base: ArrayLike<number>, seed: number, scale: number, offset = 0): Float64Array {
  const out = new Float64Array(base.length);
  for (let i = 0; i < base.length; i++) out[i] = base[i] + scale * gaussianNoise(seed, offset + i);
  return out;
}

/** [noise_g · (param - old) for each seed, |param - old|^2, |param - ref|^2] */
export function noiseDotReference(
  seeds: ArrayLike<number>,
  param: ArrayLike<number>,
  old: ArrayLike<number>,
  ref: ArrayLike<number>,
  offset = 0,
): Float64Array {
  const out = new Float64Array(seeds.length + 2);
  for (let i = 0; i < param.length; i++) {
    const d = param[i] - old[i];
    const r = param[i] - ref[i];
    for (let g = 0; g < seeds.length; g++) out[g] += gaussianNoise(seeds[g], offset + i) * d;
    out[seeds.length] += d * d;
    out[seeds.length + 1] += r * r;
  }
  return out;
}

/** grad + sum_g coefs[g] noise_g + cOld (param - old) + cRef (param - ref) */
export function noiseGradReference(
  grad: ArrayLike<number>,
  seeds: ArrayLike<number>,
  coefs: ArrayLike<number>,
  param: ArrayLike<number>,
  old: ArrayLike<number>,
  ref: ArrayLike<number>,
  cOld: number,
  cRef: number,
  offset = 0,
): Float64Array {
  const out = new Float64Array(grad.length);
  for (let i = 0; i < grad.length; i++) {
    let acc = 0;
    for (let g = 0; g < seeds.length; g++) acc += coefs[g] * gaussianNoise(seeds[g], offset + i);
    out[i] = grad[i] + acc + cOld * (param[i] - old[i]) + cRef * (param[i] - ref[i]);
  }
  return out;
}
