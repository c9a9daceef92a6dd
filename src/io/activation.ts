/**
 * Conversions between the raw parameters rl4d stores (log-scales, opacity logits,
 * unnormalised wxyz quaternions) and the activated values that glTF and .splat store.
 */

export { sigmoid } from '../math/activations.ts';

/** Inverse of sigmoid; clamped so that an opacity of exactly 0 or 1 stays finite. */
export function logit(a: number): number {
  const eps = 1e-7;
  const c = Math.min(Math.max(a, eps), 1 - eps);
  return Math.log(c / (1 - c));
}

/** Smallest scale kept finite when a stored linear scale of 0 is taken back to log space. */
export const MIN_LINEAR_SCALE = 1e-30;

/** Writes quaternion `i` of a wxyz array as a unit quaternion in glTF's xyzw order. */
export function unitQuatXyzw(quatsWxyz: Float32Array, i: number, out: Float32Array, at: number): void {
  const w = quatsWxyz[i * 4];
  const x = quatsWxyz[i * 4 + 1];
  const y = quatsWxyz[i * 4 + 2];
  const z = quatsWxyz[i * 4 + 3];
  const n = Math.hypot(w, x, y, z);
  if (n === 0) {
    // A zero quaternion has no rotation to keep; the identity is what every trainer starts from.
    out[at] = 0;
    out[at + 1] = 0;
    out[at + 2] = 0;
    out[at + 3] = 1;
    return;
  }
  out[at] = x / n;
  out[at + 1] = y / n;
  out[at + 2] = z / n;
  out[at + 3] = w / n;
}

/** Display colour of a DC coefficient, as 3DGS renders it (clamped to [0,1]). */
export function dcToColor(dc: number): number {
  return Math.min(Math.max(0.5 + 0.28209479177387814 * dc, 0), 1);
}

/** sRGB transfer function decode, for COLOR_0 attributes that glTF defines as linear. */
export function srgbToLinear(c: number): number {
  return c <= 0.04045 ? c / 12.92 : Math.pow((c + 0.055) / 1.055, 2.4);
}
