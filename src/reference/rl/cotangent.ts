/** Plain-TypeScript references for shaders/rl/cotangent.wgsl. */

/** out + a * viewWeight[i / perView] * x */
export function axpyViewsReference(
  out: ArrayLike<number>,
  x: ArrayLike<number>,
  a: number,
  viewWeight: ArrayLike<number>,
  perView: number,
): Float64Array {
  const r = new Float64Array(out.length);
  for (let i = 0; i < out.length; i++) r[i] = out[i] + a * viewWeight[Math.floor(i / perView)] * x[i];
  return r;
}

/** clamp to [-limit, limit]; NaN and infinities become 0. */
export function clipFiniteReference(values: ArrayLike<number>, limit: number): Float64Array {
  const r = new Float64Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    r[i] = Number.isFinite(v) ? Math.min(Math.max(v, -limit), limit) : 0;
  }
  return r;
}
