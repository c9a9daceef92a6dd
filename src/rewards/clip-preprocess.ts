/**
 * CLIP's image preprocessing on rendered views: resize so that the shorter side is `size`
 * (bilinear, with area averaging when shrinking; CLIP's reference uses bicubic), centre crop
 * to size x size, and normalise each channel with CLIP's mean and std. Output NCHW f32.
 */
export const CLIP_MEAN: [number, number, number] = [0.48145466, 0.4578275, 0.40821073];
export const CLIP_STD: [number, number, number] = [0.26862954, 0.26130258, 0.27577711];

export function preprocessViews(
  rgb: Float32Array,
  views: number[],
  width: number,
  height: number,
  size: number,
  mean: readonly number[] = CLIP_MEAN,
  std: readonly number[] = CLIP_STD,
): Float32Array {
  const scale = size / Math.min(width, height);
  const rw = Math.round(width * scale);
  const rh = Math.round(height * scale);
  const ox = Math.floor((rw - size) / 2);
  const oy = Math.floor((rh - size) / 2);
  const out = new Float32Array(views.length * 3 * size * size);
  const P = width * height;
  // Samples per output pixel along each axis when shrinking (simple box prefilter).
  const taps = Math.max(1, Math.ceil(1 / scale));
  const acc = new Float64Array(3);
  views.forEach((v, b) => {
    const base = v * P;
    for (let y = 0; y < size; y++)
      for (let x = 0; x < size; x++) {
        acc.fill(0);
        for (let ty = 0; ty < taps; ty++)
          for (let tx = 0; tx < taps; tx++) {
            // Centre of the sub-sample in source pixel coordinates.
            const sx = (x + ox + (tx + 0.5) / taps) / scale - 0.5;
            const sy = (y + oy + (ty + 0.5) / taps) / scale - 0.5;
            const x0 = Math.min(Math.max(Math.floor(sx), 0), width - 1);
            const y0 = Math.min(Math.max(Math.floor(sy), 0), height - 1);
            const x1 = Math.min(x0 + 1, width - 1);
            const y1 = Math.min(y0 + 1, height - 1);
            const fx = Math.min(Math.max(sx - x0, 0), 1);
            const fy = Math.min(Math.max(sy - y0, 0), 1);
            const i00 = (base + y0 * width + x0) * 3;
            const i10 = (base + y0 * width + x1) * 3;
            const i01 = (base + y1 * width + x0) * 3;
            const i11 = (base + y1 * width + x1) * 3;
            for (let c = 0; c < 3; c++)
              acc[c] += (rgb[i00 + c] * (1 - fx) + rgb[i10 + c] * fx) * (1 - fy) + (rgb[i01 + c] * (1 - fx) + rgb[i11 + c] * fx) * fy;
          }
        for (let c = 0; c < 3; c++) {
          const val = Math.min(Math.max(acc[c] / (taps * taps), 0), 1);
          out[((b * 3 + c) * size + y) * size + x] = (val - mean[c]) / std[c];
        }
      }
  });
  return out;
}
