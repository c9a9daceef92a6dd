// Fitting: from a random start, splats optimised with the WGSL Adam through the renderer's
// backward reproduce 8 views of a known splat scene and generalise to held-out views.
import { describe, expect, it } from 'vitest';
import { SplatRenderer } from '../../src/render/splat/splat-renderer.ts';
import { ImageL2Loss } from '../../src/render/splat/image-loss.ts';
import { GaussianCloud, GaussianGrads } from '../../src/scene/gaussian-cloud.ts';
import { randomGaussiansInSphere } from '../../src/scene/gaussian-init.ts';
import { orbitCamera, type Camera } from '../../src/math/camera.ts';
import { Adam } from '../../src/train/adam.ts';
import { useGpu } from '../helpers/gpu.ts';

const gpu = useGpu();
const SIZE = 64;

function ring(count: number, elevation: number, offset: number): Camera[] {
  return Array.from({ length: count }, (_, i) =>
    orbitCamera({ elevation: elevation + 25 * Math.sin(i * 2.1), azimuth: offset + (360 * i) / count, radius: 3.2, width: SIZE, height: SIZE, fovY: 45 }),
  );
}

function psnr(a: Float32Array, b: Float32Array): number {
  let se = 0;
  for (let i = 0; i < a.length; i++) se += (a[i] - b[i]) ** 2;
  return 10 * Math.log10(1 / (se / a.length));
}

describe('splat fitting', () => {
  it('reaches 30 dB PSNR on held-out views', async () => {
    const g = gpu();
    const renderer = await SplatRenderer.create(g);
    const loss = await ImageL2Loss.create(g);
    const truth = GaussianCloud.fromData(g, randomGaussiansInSphere({ count: 150, radius: 0.8, shDegree: 0, seed: 101, scale: 0.12, opacity: 0.8 }));
    const train = ring(8, 10, 0);
    // Held-out views sit between training views (same elevations, azimuths shifted by 1/16 turn).
    const heldOut = ring(8, 10, 22.5).filter((_, i) => i % 3 === 1);
    const targets = await renderer.forward(truth, train);
    const heldTargets = await renderer.forward(truth, heldOut);

    const start = randomGaussiansInSphere({ count: 200, radius: 0.9, shDegree: 0, seed: 7, scale: 0.1, opacity: 0.3 });
    const cloud = GaussianCloud.fromData(g, start);
    const grads = GaussianGrads.create(g, cloud.count, cloud.shDegree);
    const adam = await Adam.create(g, [
      { name: 'means', param: cloud.means, grad: grads.means, count: cloud.count * 3, lr: 6e-3 },
      { name: 'logScales', param: cloud.logScales, grad: grads.logScales, count: cloud.count * 3, lr: 2e-2 },
      { name: 'quats', param: cloud.quats, grad: grads.quats, count: cloud.count * 4, lr: 1e-2 },
      { name: 'opacityLogits', param: cloud.opacityLogits, grad: grads.opacityLogits, count: cloud.count, lr: 5e-2 },
      { name: 'sh', param: cloud.sh, grad: grads.sh, count: cloud.count * 3, lr: 3e-2 },
    ]);
    // Each step renders one half of the training views in one batch, alternating halves.
    const halves = [train.filter((_, i) => i % 2 === 0), train.filter((_, i) => i % 2 === 1)];
    const halfTargets = [await renderer.forward(truth, halves[0]), await renderer.forward(truth, halves[1])];
    const pixels = halves[0].length * SIZE * SIZE * 3;
    const gradRgb = g.buffer('fit rgb cotangent', pixels * 4);
    const steps = Number(process.env.FIT_STEPS ?? 200);
    const t0 = Date.now();
    for (let step = 0; step < steps; step++) {
      const half = step % 2;
      const frame = await renderer.forward(cloud, halves[half]);
      const enc = g.device.createCommandEncoder();
      const params = loss.gradient(enc, frame.rgb, halfTargets[half].rgb, gradRgb, pixels);
      await g.submit('fit loss', enc);
      await renderer.backward(frame, { rgb: gradRgb }, grads);
      await g.run('fit adam', (e) => adam.step(e, { zeroGrads: true }));
      params.destroy();
      frame.destroy();
    }
    const seconds = (Date.now() - t0) / 1000;
    const trainFrame = await renderer.forward(cloud, train);
    const heldFrame = await renderer.forward(cloud, heldOut);
    const trainPsnr = psnr(await g.readF32(trainFrame.rgb), await g.readF32(targets.rgb));
    const heldPsnr = psnr(await g.readF32(heldFrame.rgb), await g.readF32(heldTargets.rgb));
    const startFrame = await renderer.forward(GaussianCloud.fromData(g, start), heldOut);
    const startPsnr = psnr(await g.readF32(startFrame.rgb), await g.readF32(heldTargets.rgb));
    console.log(`fit: ${steps} steps in ${seconds.toFixed(1)} s; PSNR start ${startPsnr.toFixed(2)} dB, train ${trainPsnr.toFixed(2)} dB, held-out ${heldPsnr.toFixed(2)} dB`);
    expect(startPsnr).toBeLessThan(25);
    expect(heldPsnr).toBeGreaterThan(30);
    for (const f of [...halfTargets, targets, heldTargets, trainFrame, heldFrame, startFrame]) f.destroy();
    adam.destroy();
    grads.destroy();
    cloud.destroy();
    truth.destroy();
    gradRgb.destroy();
    renderer.destroy();
  }, 240_000);
});
