/**
 * 8-bit PNG encoding of float images (values in [0, 1], clamped), via fast-png.
 */
import { encode } from 'fast-png';

/** rgb: [H][W][3] floats; alpha: optional [H][W] floats (written as an RGBA PNG). */
export function encodeRgbPng(rgb: Float32Array, width: number, height: number, alpha?: Float32Array): Uint8Array {
  const channels = alpha ? 4 : 3;
  const pixels = new Uint8Array(width * height * channels);
  const to8 = (v: number) => Math.round(Math.min(1, Math.max(0, Number.isFinite(v) ? v : 0)) * 255);
  for (let i = 0; i < width * height; i++) {
    for (let c = 0; c < 3; c++) pixels[i * channels + c] = to8(rgb[i * 3 + c]);
    if (alpha) pixels[i * 4 + 3] = to8(alpha[i]);
  }
  return encode({ width, height, data: pixels, channels, depth: 8 });
}
