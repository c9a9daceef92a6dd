/** Loads and saves GaussianData by file extension (.ply, .splat, .glb); saves are atomic. */
import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { InputError } from '../errors.ts';
import type { GaussianData } from '../scene/gaussian-data.ts';
import { readSplatGlb, writeSplatGlb } from './glb.ts';
import { readPly, writePly } from './ply.ts';
import { readSplat, writeSplat } from './splat-file.ts';
import { writeFileAtomic } from './write-atomic.ts';

export const GAUSSIAN_EXTENSIONS = ['.ply', '.splat', '.glb'] as const;

function formatOf(path: string): string {
  const ext = extname(path).toLowerCase();
  if (!(GAUSSIAN_EXTENSIONS as readonly string[]).includes(ext))
    throw new InputError(`${path}: unknown splat format '${ext || '(none)'}'; use ${GAUSSIAN_EXTENSIONS.join(', ')}.`);
  return ext;
}

export async function loadGaussians(path: string): Promise<GaussianData> {
  const ext = formatOf(path);
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (e) {
    throw new InputError(`${path}: cannot read the file (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}).`);
  }
  if (ext === '.ply') return readPly(bytes, path);
  if (ext === '.splat') return readSplat(bytes, path);
  return readSplatGlb(bytes, path);
}

export function encodeGaussians(path: string, data: GaussianData): Uint8Array {
  const ext = formatOf(path);
  if (ext === '.ply') return writePly(data);
  if (ext === '.splat') return writeSplat(data);
  return writeSplatGlb(data);
}

export async function saveGaussians(path: string, data: GaussianData): Promise<void> {
  await writeFileAtomic(path, encodeGaussians(path, data));
}
