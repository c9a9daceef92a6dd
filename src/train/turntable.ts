/**
 * What a user looks at after training: a turntable of the result (PNG per frame and an
 * animated GIF) and a plot of the reward curve, drawn into a pixel buffer here (no plotting
 * library) and written as PNG. Files go through temporary names and are renamed.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { encode as encodePng } from 'fast-png';
// gifenc has a CommonJS and an ESM build: under Node's loader the functions hang off the
// default export, under bundlers (vitest) they are named exports. Take whichever is there.
import * as gifNamespace from 'gifenc';
import { writeFileAtomic } from '../io/write-atomic.ts';
import type { Gpu } from '../gpu/gpu.ts';
import type { RenderOptions } from '../render/types.ts';
import type { Representation } from '../scene/representation.ts';
import { turntableCameras } from './camera-sampler.ts';
import type { StepRecord } from './metrics.ts';

type GifApi = typeof gifNamespace.default;
const gifenc: GifApi = typeof (gifNamespace as unknown as Partial<GifApi>).GIFEncoder === 'function' ? (gifNamespace as unknown as GifApi) : gifNamespace.default;
const { GIFEncoder, applyPalette, quantize } = gifenc;

/** RGBA8 of one view from float RGB (already composited over the background by the renderer). */
export function toRgba8(rgb: Float32Array, view: number, width: number, height: number): Uint8Array {
  const px = width * height;
  const out = new Uint8Array(px * 4);
  for (let p = 0; p < px; p++) {
    for (let c = 0; c < 3; c++) out[4 * p + c] = Math.round(Math.min(Math.max(rgb[(view * px + p) * 3 + c], 0), 1) * 255);
    out[4 * p + 3] = 255;
  }
  return out;
}

export interface TurntableOptions {
  frames: number;
  size: number;
  elevation: number;
  radius: number;
  fov: number;
  target?: [number, number, number];
  renderOptions: RenderOptions;
  gif: boolean;
  /** 4D: time of each frame (default: frames sweep t from 0 to 1 when `dynamic`). */
  dynamic?: boolean;
}

/** Renders the turntable into `dir/turntable/frame_NNN.png` (+ `dir/turntable.gif`); returns the frame paths. */
export async function writeTurntable(gpu: Gpu, rep: Representation, dir: string, o: TurntableOptions): Promise<string[]> {
  if (o.frames === 0) return [];
  const framesDir = join(dir, 'turntable');
  await mkdir(framesDir, { recursive: true });
  const cameras = turntableCameras({
    frames: o.frames,
    elevation: o.elevation,
    radius: o.radius,
    fov: o.fov,
    width: o.size,
    height: o.size,
    target: o.target,
    time: o.dynamic ? (i) => (o.frames > 1 ? i / (o.frames - 1) : 0) : 0,
  });
  const paths: string[] = [];
  const encoder = o.gif ? GIFEncoder() : null;
  // Render a few views per batch to bound memory.
  const batch = 4;
  for (let start = 0; start < cameras.length; start += batch) {
    const cams = cameras.slice(start, start + batch);
    const frame = await rep.render(cams, o.renderOptions);
    const rgb = await gpu.readF32(frame.rgb, cams.length * o.size * o.size * 3);
    frame.destroy();
    for (let v = 0; v < cams.length; v++) {
      const rgba = toRgba8(rgb, v, o.size, o.size);
      const path = join(framesDir, `frame_${String(start + v).padStart(3, '0')}.png`);
      await writeFileAtomic(path, encodePng({ width: o.size, height: o.size, data: rgba, channels: 4, depth: 8 }));
      paths.push(path);
      if (encoder) {
        const palette = quantize(rgba, 256);
        encoder.writeFrame(applyPalette(rgba, palette), o.size, o.size, { palette, delay: 80 });
      }
    }
  }
  if (encoder) {
    encoder.finish();
    await writeFileAtomic(join(dir, 'turntable.gif'), encoder.bytes());
  }
  return paths;
}

/** A line plot of `series` (x = step) into RGBA8: axes, a light grid, one coloured line per series. */
export function plotCurves(
  series: { values: [number, number][]; color: [number, number, number] }[],
  width = 480,
  height = 240,
): Uint8Array {
  const img = new Uint8Array(width * height * 4).fill(255);
  const set = (x: number, y: number, c: [number, number, number]) => {
    if (x < 0 || y < 0 || x >= width || y >= height) return;
    const i = 4 * (Math.round(y) * width + Math.round(x));
    img[i] = c[0];
    img[i + 1] = c[1];
    img[i + 2] = c[2];
  };
  const pts = series.flatMap((s) => s.values).filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
  const margin = 20;
  const [x0, x1] = pts.length ? [Math.min(...pts.map((p) => p[0])), Math.max(...pts.map((p) => p[0]))] : [0, 1];
  let [y0, y1] = pts.length ? [Math.min(...pts.map((p) => p[1])), Math.max(...pts.map((p) => p[1]))] : [0, 1];
  if (y1 - y0 < 1e-12) [y0, y1] = [y0 - 0.5, y1 + 0.5];
  const px = (x: number) => margin + ((x - x0) / Math.max(x1 - x0, 1e-12)) * (width - 2 * margin);
  const py = (y: number) => height - margin - ((y - y0) / (y1 - y0)) * (height - 2 * margin);
  for (let g = 0; g <= 4; g++) {
    const y = margin + (g * (height - 2 * margin)) / 4;
    for (let x = margin; x < width - margin; x += 2) set(x, y, [220, 220, 220]);
  }
  for (let x = margin; x < width - margin; x++) set(x, height - margin, [0, 0, 0]);
  for (let y = margin; y <= height - margin; y++) set(margin, y, [0, 0, 0]);
  for (const s of series) {
    const v = s.values.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
    for (let i = 1; i < v.length; i++) {
      // Bresenham-like: step along the longer axis.
      const [ax, ay, bx, by] = [px(v[i - 1][0]), py(v[i - 1][1]), px(v[i][0]), py(v[i][1])];
      const n = Math.max(Math.abs(bx - ax), Math.abs(by - ay), 1);
      for (let t = 0; t <= n; t++) set(ax + ((bx - ax) * t) / n, ay + ((by - ay) * t) / n, s.color);
    }
    if (v.length === 1) set(px(v[0][0]), py(v[0][1]), s.color);
  }
  return img;
}

/** Writes `dir/reward.png`: the aggregated reward per step (blue) and its moving average (red). */
export async function writeRewardPlot(dir: string, records: StepRecord[]): Promise<string> {
  const raw = records.map((r) => [r.step, r.reward] as [number, number]);
  const window = Math.max(1, Math.round(records.length / 20));
  const smooth = raw.map(([x], i) => {
    const slice = raw.slice(Math.max(0, i - window + 1), i + 1);
    return [x, slice.reduce((s, p) => s + p[1], 0) / slice.length] as [number, number];
  });
  const width = 480;
  const height = 240;
  const img = plotCurves([{ values: raw, color: [120, 160, 230] }, { values: smooth, color: [200, 30, 30] }], width, height);
  const path = join(dir, 'reward.png');
  await writeFileAtomic(path, encodePng({ width, height, data: img, channels: 4, depth: 8 }));
  return path;
}
