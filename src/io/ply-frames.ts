/**
 * A 4D result as one Inria PLY per frame (frame_000.ply, frame_001.ply, ...) for tools that
 * take only static splats. Frames are baked with evaluateState at evenly spaced times, both
 * ends of the range included, as the GLB flip-book does; each file is written atomically,
 * and a frames.json beside them records the time of each file.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { InputError } from '../errors.ts';
import { checkFinite, type GaussianData } from '../scene/gaussian-data.ts';
import type { DeformationState } from '../scene/deform/deformation-field.ts';
import { evaluateState } from '../scene/deform/evaluate-state.ts';
import { frameTime } from './glb-4d.ts';
import { writePly } from './ply.ts';
import { writeFileAtomic } from './write-atomic.ts';

export interface PlyFramesOptions {
  frames: number;
  /** Defaults to the field's own timeRange. */
  timeRange?: [number, number];
}

export interface PlyFrame {
  file: string;
  time: number;
}

/** The file name of frame k; zero-padded to at least 3 digits so that names sort in time order. */
export function plyFrameName(k: number, frames: number): string {
  return `frame_${String(k).padStart(Math.max(3, String(frames - 1).length), '0')}.ply`;
}

/** Writes the frames into `dir` (created if missing) and returns their paths and times. */
export async function writePlyFrames(dir: string, canonical: GaussianData, state: DeformationState, options: PlyFramesOptions): Promise<PlyFrame[]> {
  const { frames } = options;
  if (!Number.isInteger(frames) || frames < 1) throw new InputError(`PLY frames: 'frames' must be an integer >= 1, got ${frames}.`);
  const range = options.timeRange ?? state.config.timeRange;
  if (!(Number.isFinite(range[0]) && Number.isFinite(range[1]) && range[1] >= range[0]))
    throw new InputError(`PLY frames: 'timeRange' must be two finite, non-decreasing numbers, got [${range.join(', ')}].`);
  checkFinite(canonical, 'PLY frames canonical splats');
  // Bake every frame before writing anything, so that a bad state leaves no partial set.
  const baked = Array.from({ length: frames }, (_, k) => {
    const time = frameTime(range, frames, k);
    const data = evaluateState(state, time, canonical);
    checkFinite(data, `PLY frame ${k} (t=${time})`);
    return { time, bytes: writePly(data) };
  });
  await mkdir(dir, { recursive: true });
  const written: PlyFrame[] = [];
  for (const [k, { time, bytes }] of baked.entries()) {
    const file = join(dir, plyFrameName(k, frames));
    await writeFileAtomic(file, bytes);
    written.push({ file, time });
  }
  const index = { timeRange: range, frames: written.map((f, k) => ({ file: plyFrameName(k, frames), time: f.time })) };
  await writeFileAtomic(join(dir, 'frames.json'), JSON.stringify(index, null, 2) + '\n');
  return written;
}
