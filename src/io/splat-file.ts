/**
 * antimatter15 `.splat`: no header, 32 bytes per splat: position f32x3, linear scale f32x3,
 * RGBA u8 (colour of the SH DC term, sigmoid opacity), rotation u8x4 in (w, x, y, z) order
 * as `q/|q| * 128 + 128`. It holds no higher SH: reading gives degree 0.
 */
import { InputError } from '../errors.ts';
import { checkFinite, emptyGaussians, SH_C0, shCoeffCount, type GaussianData } from '../scene/gaussian-data.ts';
import { dcToColor, logit, MIN_LINEAR_SCALE, sigmoid } from './activation.ts';

export const SPLAT_RECORD_BYTES = 32;

export function readSplat(bytes: Uint8Array, file = '.splat'): GaussianData {
  if (bytes.byteLength % SPLAT_RECORD_BYTES !== 0)
    throw new InputError(
      `${file}: ${bytes.byteLength} bytes is not a whole number of 32-byte .splat records; the file is truncated or not a .splat.`,
    );
  const n = bytes.byteLength / SPLAT_RECORD_BYTES;
  const data = emptyGaussians(n, 0);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 0; i < n; i++) {
    const at = i * SPLAT_RECORD_BYTES;
    for (let c = 0; c < 3; c++) {
      data.means[i * 3 + c] = view.getFloat32(at + c * 4, true);
      const scale = view.getFloat32(at + 12 + c * 4, true);
      if (!(scale >= 0)) throw new InputError(`${file}: splat ${i} has scale ${scale}; scales in a .splat must be >= 0.`);
      data.logScales[i * 3 + c] = Math.log(Math.max(scale, MIN_LINEAR_SCALE));
      data.sh[i * 3 + c] = (bytes[at + 24 + c] / 255 - 0.5) / SH_C0;
    }
    data.opacityLogits[i] = logit(bytes[at + 27] / 255);
    for (let c = 0; c < 4; c++) data.quats[i * 4 + c] = (bytes[at + 28 + c] - 128) / 128;
  }
  checkFinite(data, file);
  return data;
}

/** Writes splats in the order antimatter15's converter uses: large, opaque splats first. */
export function writeSplat(data: GaussianData): Uint8Array {
  const n = data.count;
  const K = shCoeffCount(data.shDegree);
  const weight = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const ls = data.logScales;
    weight[i] = Math.exp(ls[i * 3] + ls[i * 3 + 1] + ls[i * 3 + 2]) * sigmoid(data.opacityLogits[i]);
  }
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => weight[b] - weight[a]);
  const out = new Uint8Array(n * SPLAT_RECORD_BYTES);
  const view = new DataView(out.buffer);
  const byte = (v: number) => Math.min(255, Math.max(0, Math.round(v)));
  order.forEach((i, slot) => {
    const at = slot * SPLAT_RECORD_BYTES;
    for (let c = 0; c < 3; c++) {
      view.setFloat32(at + c * 4, data.means[i * 3 + c], true);
      view.setFloat32(at + 12 + c * 4, Math.exp(data.logScales[i * 3 + c]), true);
      out[at + 24 + c] = byte(dcToColor(data.sh[i * K * 3 + c]) * 255);
    }
    out[at + 27] = byte(sigmoid(data.opacityLogits[i]) * 255);
    const q = data.quats.subarray(i * 4, i * 4 + 4);
    const norm = Math.hypot(q[0], q[1], q[2], q[3]);
    // A zero quaternion carries no rotation; write the identity (w = 1).
    const unit = norm > 0 ? Array.from(q, (v) => v / norm) : [1, 0, 0, 0];
    for (let c = 0; c < 4; c++) out[at + 28 + c] = byte(unit[c] * 128 + 128);
  });
  return out;
}
