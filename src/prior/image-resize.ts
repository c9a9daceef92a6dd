/**
 * Bilinear resize of [V][H][W][C] images (half-pixel centres, edge clamp, as
 * torch.nn.functional.interpolate(mode='bilinear', align_corners=False)) and its adjoint,
 * so that a gradient computed at a prior's resolution goes back to the render's exactly.
 */

interface Tap {
  i0: number;
  i1: number;
  w1: number;
}

function taps(src: number, dst: number): Tap[] {
  const scale = src / dst;
  return Array.from({ length: dst }, (_, d) => {
    const x = Math.max((d + 0.5) * scale - 0.5, 0);
    const i0 = Math.min(Math.floor(x), src - 1);
    const i1 = Math.min(i0 + 1, src - 1);
    return { i0, i1, w1: x - i0 };
  });
}

export interface ImageShape {
  views: number;
  width: number;
  height: number;
  channels: number;
}

export function resizeBilinear(src: Float32Array, from: ImageShape, width: number, height: number): Float32Array {
  const { views, channels: C } = from;
  if (from.width === width && from.height === height) return src.slice();
  const tx = taps(from.width, width);
  const ty = taps(from.height, height);
  const out = new Float32Array(views * width * height * C);
  for (let v = 0; v < views; v++) {
    const sBase = v * from.width * from.height * C;
    const dBase = v * width * height * C;
    for (let y = 0; y < height; y++) {
      const { i0: y0, i1: y1, w1: wy } = ty[y];
      for (let x = 0; x < width; x++) {
        const { i0: x0, i1: x1, w1: wx } = tx[x];
        for (let c = 0; c < C; c++) {
          const p = (yy: number, xx: number) => src[sBase + (yy * from.width + xx) * C + c];
          const top = p(y0, x0) * (1 - wx) + p(y0, x1) * wx;
          const bottom = p(y1, x0) * (1 - wx) + p(y1, x1) * wx;
          out[dBase + (y * width + x) * C + c] = top * (1 - wy) + bottom * wy;
        }
      }
    }
  }
  return out;
}

/** The transpose of resizeBilinear: maps a gradient on the resized image back to `to`. */
export function resizeBilinearAdjoint(grad: Float32Array, resized: { width: number; height: number }, to: ImageShape): Float32Array {
  const { views, channels: C } = to;
  if (to.width === resized.width && to.height === resized.height) return grad.slice();
  const tx = taps(to.width, resized.width);
  const ty = taps(to.height, resized.height);
  const out = new Float32Array(views * to.width * to.height * C);
  for (let v = 0; v < views; v++) {
    const sBase = v * to.width * to.height * C;
    const gBase = v * resized.width * resized.height * C;
    for (let y = 0; y < resized.height; y++) {
      const { i0: y0, i1: y1, w1: wy } = ty[y];
      for (let x = 0; x < resized.width; x++) {
        const { i0: x0, i1: x1, w1: wx } = tx[x];
        for (let c = 0; c < C; c++) {
          const g = grad[gBase + (y * resized.width + x) * C + c];
          const add = (yy: number, xx: number, w: number) => (out[sBase + (yy * to.width + xx) * C + c] += g * w);
          add(y0, x0, (1 - wy) * (1 - wx));
          add(y0, x1, (1 - wy) * wx);
          add(y1, x0, wy * (1 - wx));
          add(y1, x1, wy * wx);
        }
      }
    }
  }
  return out;
}
