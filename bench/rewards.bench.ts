/**
 * Time per batch of each built-in reward at 256x256, for 4 and 16 views, against the time of
 * reading the batch's rgb back to the CPU (the ratio is the portable number). Views are
 * rendered by the CPU analytic ray caster. `clip` runs the tiny CLIP-shaped test model (so it
 * measures readback, preprocessing to 224x224 and onnxruntime overhead, not a real encoder) and
 * `http` a local server that answers at once (PNG encoding and the round trip).
 * `consistency` returns its image gradients too (forward, readback of the pair sums, backward).
 * `geometry + distortion` (filter name geometry-distortion) times what depth distortion adds
 * to a step on a 10k-splat scene rendered by the splat renderer: distortion_fwd over the
 * frame, the geometry reward with distortionWeight on, and distortion_bwd into grad2d; its
 * ratio is to the plain splat forward of the same batch (recorded as splatForwardMs; the
 * splat backward of an rgb cotangent is recorded as splatBackwardMs).
 * RL4D_BENCH_REWARDS=consistency,geometry runs only those rows and merges them into the
 * recorded results, keeping the other rows.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Gpu } from '../src/gpu/gpu.ts';
import { orbitCamera } from '../src/math/camera.ts';
import { renderAnalytic, uploadViews } from '../src/reference/rewards/analytic-scenes.ts';
import { loadRewardPlugin } from '../src/rewards/registry.ts';
import { SplatRenderer } from '../src/render/splat/splat-renderer.ts';
import { SplatDistortion } from '../src/render/splat/distortion.ts';
import { GaussianCloud, GaussianGrads } from '../src/scene/gaussian-cloud.ts';
import { randomGaussiansInSphere } from '../src/scene/gaussian-init.ts';
import type { RewardSpec, RewardViews } from '../src/rewards/plugin.ts';
import { writeTinyClip } from '../tests/rewards/helpers/tiny-clip.ts';
import { median, printTable, RESULTS_DIR, timeIt, writeResults, type Row } from './harness.ts';

const SIZE = 256;

export async function run(gpu: Gpu, opts: { quick: boolean }): Promise<void> {
  const iterations = opts.quick ? 2 : 5;
  const tmp = mkdtempSync(join(tmpdir(), 'rl4d-bench-clip-'));
  writeTinyClip(tmp, 224);
  const server = createServer((req, res) => {
    let n = 0;
    req.on('data', () => n++);
    req.on('end', () => {
      void n;
      const views = Number(new URL(req.url ?? '/', 'http://x').searchParams.get('views'));
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ scores: new Array(views).fill(0.5) }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  const rows: Row[] = [];
  try {
    for (const V of [4, 16]) {
      const cams = Array.from({ length: V }, (_, i) => orbitCamera({ elevation: 15 + 10 * Math.sin(i), azimuth: (360 * i) / V, radius: 3.2, fovY: 40, width: SIZE, height: SIZE }));
      const cpu = renderAnalytic(
        [
          { kind: 'box', center: [0, 0, 0], size: [0.55, 0.55, 0.55], paint: [0.9, 0.1, 0.1] },
          { kind: 'sphere', center: [0.9, 0.6, 0.3], size: [0.15, 0.15, 0.15], paint: [0.6, 0.6, 0.6], opacity: 0.5 },
        ],
        cams,
      );
      const views: RewardViews = { ...uploadViews(gpu, cpu), times: cams.map(() => 0), prompt: 'a red cube' };
      const baseline = await timeIt(() => gpu.readF32(views.rgb), { warmup: 1, iterations });
      const specs: [string, RewardSpec][] = [
        ['geometry', { name: 'geometry', weight: 1 }],
        ['consistency', { name: 'consistency', weight: 1 }],
        ['prompt-attributes', { name: 'prompt-attributes', weight: 1 }],
        ['clip (tiny model)', { name: 'clip', weight: 1, options: { modelDir: tmp } }],
        ['http (local echo)', { name: 'http', weight: 1, options: { url: `http://127.0.0.1:${port}/?views=${V}` } }],
      ];
      const only = process.env.RL4D_BENCH_REWARDS?.split(',').map((s) => s.trim());
      if (!only || only.includes('geometry-distortion')) rows.push(await distortionRow(gpu, cams, iterations));
      for (const [label, spec] of specs) {
        if (only && !only.includes(spec.name!)) continue;
        const plugin = await loadRewardPlugin(spec, process.cwd());
        await plugin.setup?.(gpu);
        const t = await timeIt(async () => {
          const r = await plugin.score(views, gpu);
          for (const b of Object.values(r.grads ?? {})) b?.destroy();
        }, { warmup: 1, iterations });
        await plugin.teardown?.();
        rows.push({
          reward: label,
          views: V,
          size: SIZE,
          differentiable: plugin.differentiable,
          medianMs: t.medianMs,
          minMs: t.minMs,
          msPerView: t.medianMs / V,
          rgbReadbackMs: baseline.medianMs,
          ratioToReadback: t.medianMs / baseline.medianMs,
        });
      }
      for (const b of [views.rgb, views.alpha, views.depth, views.normal]) b.destroy();
    }
  } finally {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
    rmSync(tmp, { recursive: true, force: true });
  }
  printTable('rewards: time per batch at 256x256', rows);
  await writeResults('rewards', { adapter: gpu.summary, quick: opts.quick, rows: process.env.RL4D_BENCH_REWARDS ? mergeRows(rows) : rows });
}

/** Distortion forward + geometry reward with distortion + distortion backward, on splats. */
async function distortionRow(gpu: Gpu, cams: ReturnType<typeof orbitCamera>[], iterations: number): Promise<Row> {
  const V = cams.length;
  const renderer = await SplatRenderer.create(gpu);
  const distortion = await SplatDistortion.create(gpu, renderer.usesSubgroups);
  const cloud = GaussianCloud.fromData(gpu, randomGaussiansInSphere({ count: 10_000, radius: 0.8, shDegree: 0, seed: 5, opacity: 0.6, scale: 0.05 }));
  const plain = await timeIt(async () => (await renderer.forward(cloud, cams)).destroy(), { warmup: 1, iterations });
  const frame = await renderer.forward(cloud, cams);
  const grads = GaussianGrads.create(gpu, cloud.count, cloud.shDegree);
  const rgbCot = gpu.buffer('bench rgb cotangent', frame.pixels * 12);
  const plainBwd = await timeIt(() => renderer.backward(frame, { rgb: rgbCot }, grads), { warmup: 1, iterations });
  grads.destroy();
  rgbCot.destroy();
  const grad2d = gpu.buffer('bench grad2d', V * cloud.count * 64);
  const plugin = await loadRewardPlugin({ name: 'geometry', weight: 1, options: { distortionWeight: 100 } }, process.cwd());
  const parts = { fwd: [] as number[], reward: [] as number[], bwd: [] as number[] };
  const t = await timeIt(async () => {
    let t0 = performance.now();
    const d = await distortion.forward(frame.state, {});
    await gpu.device.queue.onSubmittedWorkDone();
    parts.fwd.push(performance.now() - t0);
    t0 = performance.now();
    const r = await plugin.score({ ...frame, distortion: d.image, times: cams.map(() => 0), prompt: '' }, gpu);
    parts.reward.push(performance.now() - t0);
    t0 = performance.now();
    await gpu.run('bench distortion backward', (enc) => {
      for (const c of frame.state.chunks) distortion.recordBackward(enc, frame.state, c, d, r.grads!.distortion!, grad2d);
    });
    parts.bwd.push(performance.now() - t0);
    for (const b of Object.values(r.grads ?? {})) b?.destroy();
    for (const b of [d.image, d.moments, d.params]) b.destroy();
  }, { warmup: 1, iterations });
  // The first call of each part was the untimed warm-up.
  const med = (xs: number[]) => median(xs.slice(1));
  grad2d.destroy();
  frame.destroy();
  cloud.destroy();
  renderer.destroy();
  return {
    reward: 'geometry + distortion',
    views: V,
    size: SIZE,
    differentiable: true,
    medianMs: t.medianMs,
    minMs: t.minMs,
    msPerView: t.medianMs / V,
    distortionFwdMs: med(parts.fwd),
    rewardMs: med(parts.reward),
    distortionBwdMs: med(parts.bwd),
    splatForwardMs: plain.medianMs,
    splatBackwardMs: plainBwd.medianMs,
    ratioToSplatForward: t.medianMs / plain.medianMs,
  };
}

/** The recorded rows with those of the same reward and view count replaced by `fresh` (others kept, new ones appended). */
function mergeRows(fresh: Row[]): Row[] {
  const path = join(RESULTS_DIR, 'rewards.json');
  const old: Row[] = existsSync(path) ? JSON.parse(readFileSync(path, 'utf8')).rows : [];
  const key = (r: Row) => `${r.reward}/${r.views}`;
  const byKey = new Map(fresh.map((r) => [key(r), r]));
  const out = old.map((r) => byKey.get(key(r)) ?? r);
  for (const r of fresh) if (!old.some((o) => key(o) === key(r))) out.push(r);
  return out;
}
