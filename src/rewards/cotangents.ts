/** GPU helpers for image cotangents shared by the ensemble and the built-in rewards. */
import type { Gpu } from '../gpu/gpu.ts';
import type { RenderCotangents } from '../render/types.ts';

export const COTANGENT_CHANNELS = { rgb: 3, alpha: 1, depth: 1, normal: 3, distortion: 1 } as const;
export type CotangentKey = keyof typeof COTANGENT_CHANNELS;
export const COTANGENT_KEYS = Object.keys(COTANGENT_CHANNELS) as CotangentKey[];
/** The four images every renderer produces (distortion is on request). */
export const IMAGE_COTANGENT_KEYS: readonly CotangentKey[] = ['rgb', 'alpha', 'depth', 'normal'];

/** Zero-filled cotangent buffers for the given keys. */
export function zeroCotangents(gpu: Gpu, label: string, views: number, pixelsPerView: number, keys: readonly CotangentKey[] = IMAGE_COTANGENT_KEYS): RenderCotangents {
  const out: RenderCotangents = {};
  for (const k of keys) out[k] = gpu.buffer(`${label}.${k}`, views * pixelsPerView * COTANGENT_CHANNELS[k] * 4);
  return out;
}

/** Records out[k] += coef[view] * g[k] for every cotangent g has (allocating out[k] when missing). */
export async function accumulateCotangents(
  gpu: Gpu,
  encoder: GPUCommandEncoder,
  out: RenderCotangents,
  g: RenderCotangents,
  coef: Float32Array,
  pixelsPerView: number,
  label: string,
): Promise<GPUBuffer[]> {
  const pipeline = await gpu.kernel({ file: 'image/accumulate_views.wgsl', entry: 'accumulate_views' });
  const views = coef.length;
  const coefBuf = gpu.upload(`${label}.coef`, coef);
  const temps: GPUBuffer[] = [coefBuf];
  for (const k of COTANGENT_KEYS) {
    const src = g[k];
    if (!src) continue;
    const perView = pixelsPerView * COTANGENT_CHANNELS[k];
    const total = perView * views;
    if (!out[k]) out[k] = gpu.buffer(`${label}.${k}`, total * 4);
    const params = gpu.uniform(`${label}.${k}.params`, new Uint32Array([perView, total]));
    temps.push(params);
    gpu.dispatch(encoder, pipeline, [params, coefBuf, src, out[k]!], Math.ceil(total / 256));
  }
  return temps;
}

export function destroyCotangents(c: RenderCotangents | undefined): void {
  if (!c) return;
  for (const k of COTANGENT_KEYS) c[k]?.destroy();
}
