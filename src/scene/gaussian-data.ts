/**
 * Gaussian splat parameters on the CPU, stored raw as Inria and gsplat store them:
 * means xyz, log-scales, quaternions (w, x, y, z) unnormalised, opacity logits, and SH
 * coefficients [N][K][3] with K = (degree+1)^2, DC first. Formats convert at their edge.
 */
import { InputError } from '../errors.ts';

export interface GaussianData {
  count: number;
  shDegree: number;
  means: Float32Array; // [N][3]
  logScales: Float32Array; // [N][3]
  quats: Float32Array; // [N][4] wxyz
  opacityLogits: Float32Array; // [N]
  sh: Float32Array; // [N][K][3]
}

export const SH_C0 = 0.28209479177387814;

export function shCoeffCount(degree: number): number {
  return (degree + 1) * (degree + 1);
}

export function emptyGaussians(count: number, shDegree: number): GaussianData {
  if (!(shDegree >= 0 && shDegree <= 3 && Number.isInteger(shDegree)))
    throw new InputError(`SH degree ${shDegree} is not supported; use 0, 1, 2 or 3.`);
  return {
    count,
    shDegree,
    means: new Float32Array(count * 3),
    logScales: new Float32Array(count * 3),
    quats: new Float32Array(count * 4),
    opacityLogits: new Float32Array(count),
    sh: new Float32Array(count * shCoeffCount(shDegree) * 3),
  };
}

/** Throws naming the parameter and splat index of the first NaN or infinity. */
export function checkFinite(data: GaussianData, source = 'scene'): void {
  const fields: [string, Float32Array, number][] = [
    ['means', data.means, 3],
    ['logScales', data.logScales, 3],
    ['quats', data.quats, 4],
    ['opacityLogits', data.opacityLogits, 1],
    ['sh', data.sh, shCoeffCount(data.shDegree) * 3],
  ];
  for (const [name, arr, stride] of fields) {
    for (let i = 0; i < arr.length; i++) {
      if (!Number.isFinite(arr[i]))
        throw new InputError(`${source}: '${name}' of splat ${Math.floor(i / stride)} is ${arr[i]}; remove or fix that splat.`);
    }
  }
}
