/** Reference for shaders/image/accumulate_views.wgsl: out[i] += coef[view(i)] * g[i]. */
export function accumulateViewsRef(out: Float32Array, g: ArrayLike<number>, coef: ArrayLike<number>, perView: number): Float32Array {
  const r = Float32Array.from(out);
  for (let i = 0; i < r.length; i++) r[i] += coef[Math.floor(i / perView)] * g[i];
  return r;
}
