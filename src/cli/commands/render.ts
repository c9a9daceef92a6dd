/**
 * `rl4d render <scene.ply|.splat|.glb> --cameras cams.json --out dir [--format png|npy]
 * [--sh-degree N] [--background r,g,b]`: renders the splats from each camera. Everything is
 * validated before the GPU starts, and every file is written under a temporary name and
 * renamed, so bad input leaves no partial output.
 */
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from '../args.ts';
import { InputError } from '../../errors.ts';
import { parseCameras, type Camera } from '../../math/camera.ts';
import { checkFinite } from '../../scene/gaussian-data.ts';
import { loadGaussians } from '../../io/gaussians-file.ts';
import { writeFileAtomic } from '../../io/write-atomic.ts';
import { encodeNpy } from '../../io/npy.ts';
import { encodeRgbPng } from '../../io/png.ts';
import { Gpu } from '../../gpu/gpu.ts';
import { GaussianCloud } from '../../scene/gaussian-cloud.ts';
import { SplatRenderer } from '../../render/splat/splat-renderer.ts';

export const summary = 'render splats (PLY, .splat or GLB) from the cameras in a JSON file to PNG or npy';

const HELP = `usage: rl4d render <scene.ply|.splat|.glb> --cameras <cams.json> --out <dir>
                   [--format png|npy] [--sh-degree N] [--background r,g,b] [--batch N]

cams.json is a list of { width, height, fx, fy, cx, cy, viewmat: [16 numbers, row-major,
world-to-camera, OpenCV frame] }. png writes view_NNN.png (RGBA, 8-bit); npy writes
view_NNN_rgb.npy [H,W,3], view_NNN_alpha.npy [H,W] and view_NNN_depth.npy [H,W] (float32).`;

function parseBackground(text: string | undefined): [number, number, number] {
  if (text === undefined) return [0, 0, 0];
  const parts = text.split(',').map(Number);
  if (parts.length !== 3 || parts.some((v) => !Number.isFinite(v)))
    throw new InputError(`--background must be three numbers r,g,b (0..1), got '${text}'.`);
  return parts as [number, number, number];
}

/** Groups consecutive views of the same size into batches of at most `max` views. */
function batches(cameras: Camera[], max: number): number[][] {
  const out: number[][] = [];
  cameras.forEach((c, i) => {
    const last = out[out.length - 1];
    const head = last && cameras[last[0]];
    if (last && last.length < max && head.width === c.width && head.height === c.height) last.push(i);
    else out.push([i]);
  });
  return out;
}

export async function run(argv: string[]): Promise<number> {
  if (argv.includes('--help')) {
    console.log(HELP);
    return 0;
  }
  const { positionals, options } = parseArgs('render', argv, {
    cameras: 'string',
    out: 'string',
    format: 'string',
    'sh-degree': 'number',
    background: 'string',
    batch: 'number',
  });
  if (positionals.length !== 1) throw new InputError(`expected one scene file, got ${positionals.length}.\n${HELP}`);
  const scenePath = positionals[0];
  const camerasPath = options.cameras as string | undefined;
  const outDir = options.out as string | undefined;
  if (!camerasPath) throw new InputError('missing --cameras <cams.json>.');
  if (!outDir) throw new InputError('missing --out <dir>.');
  const format = (options.format as string | undefined) ?? 'png';
  if (format !== 'png' && format !== 'npy') throw new InputError(`--format must be png or npy, got '${format}'.`);
  const background = parseBackground(options.background as string | undefined);
  const batchSize = (options.batch as number | undefined) ?? 4;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new InputError('--batch must be a positive integer.');

  let camerasJson: unknown;
  try {
    camerasJson = JSON.parse(await readFile(camerasPath, 'utf8'));
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new InputError(err.code === 'ENOENT' ? `${camerasPath}: file not found.` : `${camerasPath}: not valid JSON (${err.message}).`);
  }
  const cameras = parseCameras(camerasJson, camerasPath);
  const data = await loadGaussians(scenePath);
  checkFinite(data, scenePath);
  const shDegree = (options['sh-degree'] as number | undefined) ?? data.shDegree;
  if (!Number.isInteger(shDegree) || shDegree < 0 || shDegree > 3)
    throw new InputError(`--sh-degree must be 0, 1, 2 or 3, got ${shDegree}.`);
  if (shDegree > data.shDegree)
    throw new InputError(`--sh-degree ${shDegree} is above the scene's SH degree ${data.shDegree} (${scenePath}).`);

  const gpu = await Gpu.create();
  try {
    const cloud = GaussianCloud.fromData(gpu, data);
    const renderer = await SplatRenderer.create(gpu);
    // Render everything before writing anything, so a GPU failure leaves no partial output.
    const files: [string, Uint8Array][] = [];
    for (const batch of batches(cameras, batchSize)) {
      const frame = await renderer.forward(cloud, batch.map((i) => cameras[i]), { background, shDegree });
      const { width: w, height: h } = frame;
      const [rgb, alpha, depth] = await Promise.all([gpu.readF32(frame.rgb), gpu.readF32(frame.alpha), gpu.readF32(frame.depth)]);
      frame.destroy();
      batch.forEach((viewIndex, v) => {
        const name = `view_${String(viewIndex).padStart(3, '0')}`;
        const px = w * h;
        const rgbV = rgb.subarray(v * px * 3, (v + 1) * px * 3);
        const alphaV = alpha.subarray(v * px, (v + 1) * px);
        if (format === 'png') files.push([`${name}.png`, encodeRgbPng(rgbV, w, h, alphaV)]);
        else {
          // Depth is stored alpha-weighted by the renderer; npy gets the expected depth of
          // the surface (divided by alpha), 0 where nothing was hit.
          const depthV = Float32Array.from(depth.subarray(v * px, (v + 1) * px), (d, i) => (alphaV[i] > 1e-6 ? d / alphaV[i] : 0));
          files.push([`${name}_rgb.npy`, encodeNpy(Float32Array.from(rgbV), [h, w, 3])]);
          files.push([`${name}_alpha.npy`, encodeNpy(Float32Array.from(alphaV), [h, w])]);
          files.push([`${name}_depth.npy`, encodeNpy(depthV, [h, w])]);
        }
      });
    }
    await mkdir(outDir, { recursive: true });
    for (const [name, bytes] of files) await writeFileAtomic(join(outDir, name), bytes);
    console.log(`rendered ${cameras.length} view(s) of ${data.count} splats to ${outDir} (${files.length} files)`);
    cloud.destroy();
    return 0;
  } finally {
    gpu.destroy();
  }
}
