// GPU forward of the splat renderer against the f64 reference (1e-4 absolute).
import { describe, expect, it } from 'vitest';
import { SplatRenderer } from '../../src/render/splat/splat-renderer.ts';
import type { SplatFrame } from '../../src/render/splat/splat-frame.ts';
import { GaussianCloud } from '../../src/scene/gaussian-cloud.ts';
import { emptyGaussians, type GaussianData } from '../../src/scene/gaussian-data.ts';
import type { RenderOptions } from '../../src/render/types.ts';
import type { Camera } from '../../src/math/camera.ts';
import { referenceForwardState, referenceRender } from '../../src/reference/splat/render.ts';
import { touchedTileCount } from '../../src/reference/splat/tile-cull.ts';
import { expectClose } from '../helpers/compare.ts';
import { useGpu } from '../helpers/gpu.ts';
import { cameras, smallScene } from './scenes.ts';
import { cameraCenter } from '../../src/math/camera.ts';

const gpu = useGpu();

/** Adds the awkward cases: behind the camera, off screen, huge, tiny, transparent. */
function withEdgeCases(d: GaussianData): GaussianData {
  const n = d.count;
  const extra = 6;
  const out = emptyGaussians(n + extra, d.shDegree);
  const k = d.sh.length / Math.max(n, 1);
  out.means.set(d.means); out.logScales.set(d.logScales); out.quats.set(d.quats);
  out.opacityLogits.set(d.opacityLogits); out.sh.set(d.sh);
  const set = (j: number, mean: number[], logScale: number, logit: number) => {
    const i = n + j;
    out.means.set(mean, i * 3);
    out.logScales.set([logScale, logScale + 0.3, logScale - 0.2], i * 3);
    out.quats.set([0.9, 0.1, -0.3, 0.2], i * 4);
    out.opacityLogits[i] = logit;
    for (let c = 0; c < k; c++) out.sh[i * k + c] = ((c * 7919) % 13) / 13 - 0.4;
  };
  set(0, [0, 0, 30], -1.5, 1); // behind the cameras of cameras() (they orbit at radius 3)
  set(1, [40, 3, 0], -1, 1); // far off screen
  set(2, [0.1, -0.2, 0.3], Math.log(2.5), -1.5); // very large
  set(3, [0.2, 0.1, -0.1], Math.log(1e-4), 3); // very small
  set(4, [-0.3, 0.2, 0.1], -1.2, -40); // zero opacity
  set(5, [0.05, 0.05, 0.05], -1.0, 4); // nearly opaque (alpha clamp)
  return out;
}

async function compare(data: GaussianData, cams: Camera[], options: RenderOptions = {}, atol = 1e-4): Promise<SplatFrame> {
  const g = gpu();
  const renderer = await SplatRenderer.create(g);
  const cloud = GaussianCloud.fromData(g, data);
  const frame = await renderer.forward(cloud, cams, options);
  const ref = referenceRender(data, cams, options);
  expectClose(await g.readF32(frame.rgb, ref.rgb.length), ref.rgb, atol, 'rgb');
  expectClose(await g.readF32(frame.alpha, ref.alpha.length), ref.alpha, atol, 'alpha');
  expectClose(await g.readF32(frame.depth, ref.depth.length), ref.depth, atol * 4, 'depth');
  expectClose(await g.readF32(frame.normal, ref.normal.length), ref.normal, atol, 'normal');
  if (data.count > 0) {
    const radii = await g.readU32(frame.radii, ref.radii.length);
    const visible = await g.readU32(frame.visible, ref.visible.length);
    let off = 0;
    for (let i = 0; i < ref.radii.length; i++) {
      if (visible[i] !== ref.visible[i] || Math.abs(radii[i] - ref.radii[i]) > 1) off++;
    }
    expect(off, 'splats whose visibility or radius differ').toBe(0);
  }
  let lit = 0;
  for (const a of ref.alpha) if (a > 0.05) lit++;
  if (data.count > 0) expect(lit, 'the scene covers some pixels').toBeGreaterThan(ref.alpha.length * 0.05);
  cloud.destroy();
  renderer.destroy();
  return frame;
}

describe('splat forward vs reference', () => {
  it('SH degree 0, edge cases, one view, 37x29', async () => {
    (await compare(withEdgeCases(smallScene(43, 0, 1)), cameras(1, 37, 29))).destroy();
  });

  it('SH degree 1..3, three views in one batch, background, 50x33', async () => {
    for (const deg of [1, 2, 3]) {
      const f = await compare(withEdgeCases(smallScene(61, deg, 10 + deg)), cameras(3, 50, 33), { background: [0.3, 0.6, 0.9] });
      f.destroy();
    }
  });

  it('antialiased mode and a lower SH degree than the cloud', async () => {
    (await compare(withEdgeCases(smallScene(70, 3, 5)), cameras(2, 40, 24), { antialiased: true, shDegree: 1, background: [1, 1, 1] })).destroy();
  });

  it('zero splats render the background', async () => {
    const f = await compare(emptyGaussians(0, 0), cameras(2, 20, 20), { background: [0.25, 0.5, 0.75] });
    const rgb = await gpu().readF32(f.rgb, 6);
    expect(Array.from(rgb)).toEqual([0.25, 0.5, 0.75, 0.25, 0.5, 0.75]);
    f.destroy();
  });

  it('no visible splat: every one behind or beside the cameras; the compacted depth list is empty', async () => {
    const g = gpu();
    const data = smallScene(40, 1, 8);
    // Push every splat behind the orbiting cameras (radius 3) or far off screen.
    for (let i = 0; i < data.count; i++) data.means.set(i % 2 ? [0, 0, 30 + i] : [40 + i, 3, 0], i * 3);
    const cams = cameras(2, 24, 20);
    const renderer = await SplatRenderer.create(g);
    const cloud = GaussianCloud.fromData(g, data);
    const frame = await renderer.forward(cloud, cams, { background: [0.1, 0.2, 0.3] });
    const ref = referenceRender(data, cams, { background: [0.1, 0.2, 0.3] });
    expect(ref.visible.some((v) => v !== 0)).toBe(false);
    expect(Array.from(await g.readU32(frame.visible, data.count * 2)).some((v) => v !== 0)).toBe(false);
    expect(frame.state.numIsects).toBe(0);
    expect(frame.state.chunks[0].depthSort).toEqual({ pairs: 0, bits: 0 });
    expectClose(await g.readF32(frame.rgb, ref.rgb.length), ref.rgb, 1e-6, 'rgb');
    expectClose(await g.readF32(frame.alpha, ref.alpha.length), ref.alpha, 0, 'alpha');
    frame.destroy();
    cloud.destroy();
    renderer.destroy();
  });

  it('every splat visible, depths from 0.05 to 400 along the view axis: the depth sort over the range bits', async () => {
    // Overlapping translucent splats on camera 0's axis, their size growing with depth so
    // that each covers about the same pixels: the image depends on their depth order, over a
    // range of depth keys 27 bits wide (13 octaves of floats).
    const n = 14;
    const cams = cameras(1, 32, 32);
    const c = cameraCenter(cams[0]);
    const len = Math.hypot(c[0], c[1], c[2]);
    const data = emptyGaussians(n, 0);
    for (let i = 0; i < n; i++) {
      // Shuffled depths so that index order is not depth order.
      const d = 0.05 * Math.pow(400 / 0.05, ((i * 5) % n) / (n - 1));
      const off = 0.02 * d * Math.sin(3 * i);
      data.means.set([c[0] - (d * c[0]) / len + off, c[1] - (d * c[1]) / len - off, c[2] - (d * c[2]) / len], i * 3);
      data.logScales.set([Math.log(0.06 * d), Math.log(0.05 * d), Math.log(0.04 * d)], i * 3);
      data.quats.set([1, 0.1 * i, 0, 0], i * 4);
      data.opacityLogits[i] = -0.5;
      data.sh.set([Math.sin(i), Math.cos(2 * i), Math.sin(3 * i + 1)], i * 3);
    }
    const frame = await compare(data, cams);
    expect(Array.from(await gpu().readU32(frame.visible, n)).every((v) => v === 1)).toBe(true);
    // 13 octaves of depth: keys less the smallest need 27 bits, not 32.
    expect(frame.state.chunks[0].depthSort).toEqual({ pairs: n, bits: 27 });
    frame.destroy();
  });

  it('many splats in front of each other: early termination', async () => {
    (await compare(smallScene(300, 0, 77, { opacity: 0.9, scale: 0.3 }), cameras(1, 48, 48))).destroy();
  });

  it('exact tile culling: thin diagonal splats skip the rectangle tiles their ellipse misses', async () => {
    // Splats stretched along a diagonal: their rectangles span several tiles whose corners
    // the ellipses never reach. The GPU emits exactly the reference's touched tiles, fewer
    // than the rectangles hold, and the images still match.
    const n = 12;
    const data = emptyGaussians(n, 0);
    for (let i = 0; i < n; i++) {
      data.means.set([0.35 * Math.cos(i), 0.3 * Math.sin(1.7 * i), 0.2 * Math.cos(2.3 * i)], i * 3);
      data.logScales.set([Math.log(0.5), Math.log(0.012), Math.log(0.012)], i * 3);
      const angle = (i % 2 ? 1 : -1) * (Math.PI / 4 + 0.1 * i); // about the view axis
      data.quats.set([Math.cos(angle / 2), 0, 0, Math.sin(angle / 2)], i * 4);
      data.opacityLogits[i] = 1.5;
      data.sh.set([0.8, 0.2 * (i % 3), -0.5], i * 3);
    }
    const cams = cameras(2, 80, 64);
    const frame = await compare(data, cams);
    const state = referenceForwardState(data, cams);
    let touched = 0;
    let rectTiles = 0;
    for (const view of state.projected)
      for (const s of view) {
        touched += touchedTileCount(s, 80, 64);
        rectTiles += (s.rect[2] - s.rect[0]) * (s.rect[3] - s.rect[1]);
      }
    expect(touched).toBeLessThan(0.8 * rectTiles);
    expect(frame.state.numIsects).toBe(touched);
    frame.destroy();
  });
});
