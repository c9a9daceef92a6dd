/** Row sums of vec4 records on the GPU (shaders/image/reduce_rows.wgsl). */
import type { Gpu } from '../gpu/gpu.ts';

/** Records out[row] = sum_i data[row][i] (vec4 records); returns the [rows][4] output buffer. */
export async function recordRowSums(gpu: Gpu, encoder: GPUCommandEncoder, data: GPUBuffer, n: number, rows: number, label: string, temps: GPUBuffer[]): Promise<GPUBuffer> {
  const pipeline = await gpu.kernel({ file: 'image/reduce_rows.wgsl', entry: 'reduce_rows' });
  const out = gpu.buffer(`${label}.sums`, rows * 16);
  const params = gpu.uniform(`${label}.reduce`, new Uint32Array([n, rows]));
  temps.push(out, params);
  gpu.dispatch(encoder, pipeline, [params, data, out], rows);
  return out;
}

/** Camera records for kernels: fx, fy, cx, cy, then the top 3x4 of the row-major viewmat (16 floats). */
export function packCameras(cameras: { fx: number; fy: number; cx: number; cy: number; viewmat: ArrayLike<number> }[]): Float32Array {
  const out = new Float32Array(cameras.length * 16);
  cameras.forEach((c, v) => {
    out.set([c.fx, c.fy, c.cx, c.cy], v * 16);
    for (let k = 0; k < 12; k++) out[v * 16 + 4 + k] = c.viewmat[k];
  });
  return out;
}
