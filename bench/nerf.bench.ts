/**
 * NeRF ray marching at 256x256: rays per second of the forward pass and of forward plus
 * backward, for a small and a large hash grid, with and without occupancy-grid skipping.
 * The scene is a dense ball (a sphere of coarse-level hash vertices read by the MLP) in an
 * otherwise empty box, so occupancy skipping has empty space to skip. The ratio of each
 * timing to the same grid without skipping is the comparable result. Normals are tetrahedral
 * differences of the density (four more field evaluations per sample of weight >= 1e-4), so
 * the forward is also timed without them: normalCost is forward with normals / forward
 * without, the per-view price of the normal output. Writes bench/results/nerf.json.
 */
import type { Gpu } from '../src/gpu/gpu.ts';
import { orbitCamera } from '../src/math/camera.ts';
import { RadianceField, initialFieldParams } from '../src/scene/radiance-field.ts';
import { fieldLayout, type RadianceFieldConfig } from '../src/scene/nerf/layout.ts';
import { printTable, timeIt, writeResults, type Row } from './harness.ts';

function ballField(gpu: Gpu, cfg: RadianceFieldConfig): RadianceField {
  const layout = fieldLayout(cfg);
  const { hash, mlp } = initialFieldParams(cfg, layout);
  const r = layout.resolutions[0];
  const s = r + 1;
  for (let z = 0; z <= r; z++)
    for (let y = 0; y <= r; y++)
      for (let x = 0; x <= r; x++) {
        const d = Math.hypot(x / r - 0.5, y / r - 0.5, z / r - 0.5);
        hash[(x + y * s + z * s * s) * layout.features] = d < 0.3 ? 1 : 0;
      }
  const o = layout.offsets;
  mlp[o.w1] = 4; // hidden unit 0 follows the ball feature
  mlp[o.b1] = 0;
  mlp[o.wSigma] = 30;
  mlp[o.bSigma] = -12;
  return RadianceField.fromParams(gpu, cfg, hash, mlp);
}

export async function run(gpu: Gpu, opts: { quick: boolean }): Promise<void> {
  const size = 256;
  const iterations = opts.quick ? 1 : 3;
  // Pipelines are built by a small warm-up render, so quick runs time a single call.
  const warmup = opts.quick ? 0 : 1;
  const grids: [string, Partial<RadianceFieldConfig>][] = [
    ['8 levels x 2, 2^14', { levels: 8, log2TableSize: 14, finestResolution: 128 }],
    ['16 levels x 2, 2^19', { levels: 16, log2TableSize: 19, finestResolution: 1024 }],
  ];
  const cameras = [orbitCamera({ elevation: 20, azimuth: 30, radius: 2.6, fovY: 45, width: size, height: size })];
  const rays = size * size;
  const rows: Row[] = [];
  for (const [name, over] of grids) {
    const cfg: RadianceFieldConfig = {
      levels: 8, featuresPerLevel: 2, log2TableSize: 14, baseResolution: 16, finestResolution: 128, hiddenWidth: 64,
      viewDependent: true, bounds: { min: [-1, -1, -1], max: [1, 1, 1] }, seed: 1, occupancyResolution: 64, ...over,
    };
    const field = ballField(gpu, cfg);
    await field.updateOccupancy({ threshold: 0.01 });
    const occupied = await field.occupancy.occupiedFraction();
    const cot = gpu.upload('bench cotangent', new Float32Array(rays * 3).fill(1e-3));
    const small = [orbitCamera({ elevation: 20, azimuth: 30, radius: 2.6, width: 8, height: 8 })];
    const warm = await field.render(small);
    await field.backward(warm, { rgb: cot });
    warm.destroy();
    (await field.render(small, { normals: false })).destroy();
    let baseline: { fwd: number; both: number } | undefined;
    for (const useOccupancy of [false, true]) {
      const options = { useOccupancy, background: [1, 1, 1] as [number, number, number] };
      const fwd = await timeIt(async () => (await field.render(cameras, options)).destroy(), { warmup, iterations });
      const plain = await timeIt(async () => (await field.render(cameras, { ...options, normals: false })).destroy(), { warmup, iterations });
      const both = await timeIt(async () => {
        const frame = await field.render(cameras, options);
        await field.backward(frame, { rgb: cot });
        frame.destroy();
      }, { warmup, iterations });
      baseline ??= { fwd: fwd.medianMs, both: both.medianMs };
      rows.push({
        grid: name,
        occupancy: useOccupancy,
        occupiedCells: Number(occupied.toFixed(3)),
        forwardMs: Math.round(fwd.medianMs),
        forwardRaysPerS: Math.round(rays / (fwd.medianMs / 1000)),
        forwardNoNormalsMs: Math.round(plain.medianMs),
        normalCost: Number((fwd.medianMs / plain.medianMs).toFixed(2)),
        fwdBwdMs: Math.round(both.medianMs),
        fwdBwdRaysPerS: Math.round(rays / (both.medianMs / 1000)),
        forwardSpeedup: Number((baseline.fwd / fwd.medianMs).toFixed(2)),
        fwdBwdSpeedup: Number((baseline.both / both.medianMs).toFixed(2)),
      });
    }
    cot.destroy();
    field.destroy();
  }
  printTable(`NeRF ray marching, ${size}x${size} (speedups relative to the same grid without occupancy skipping)`, rows);
  await writeResults('nerf', { adapter: gpu.summary, rows, image: [size, size], iterations });
}
