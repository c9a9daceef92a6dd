/**
 * Checkpoints: everything a run needs to continue exactly where it stopped (parameters,
 * optimiser moments, sampler and densification state, reward running statistics, the
 * algorithm's state, the step), packed into one file written to a temporary name and renamed,
 * so that killing the process at any moment leaves the previous checkpoint whole.
 */
import { readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { InputError } from '../errors.ts';
import { writeFileAtomic } from '../io/write-atomic.ts';
import { packState, unpackState } from './state-pack.ts';

export const CHECKPOINT_FILE = 'checkpoint.rl4d';
const VERSION = 1;

export interface CheckpointState {
  version: number;
  /** Steps completed; the resumed run continues with this step index. */
  step: number;
  /** Hash of the config's training-relevant fields; resuming under another config is refused. */
  configHash: string;
  /** Wall seconds spent before this checkpoint (so metrics times continue). */
  elapsed: number;
  representation: Record<string, unknown>;
  optimizer: unknown;
  rewards?: unknown;
  algorithm?: Record<string, unknown>;
  densify?: unknown;
}

export function checkpointPath(outDir: string): string {
  return join(outDir, CHECKPOINT_FILE);
}

/** A short stable hash of a JSON value with sorted keys. */
export function hashConfig(value: unknown): string {
  const sorted = JSON.stringify(value, (_k, v) =>
    v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, v[k]])) : v,
  );
  return createHash('sha256').update(sorted).digest('hex').slice(0, 16);
}

export async function saveCheckpoint(outDir: string, state: Omit<CheckpointState, 'version'>): Promise<string> {
  const path = checkpointPath(outDir);
  await writeFileAtomic(path, packState({ version: VERSION, ...state }));
  return path;
}

/** Loads the checkpoint of an output folder; errors say what to do when it is missing or foreign. */
export async function loadCheckpoint(outDir: string, expectedHash?: string): Promise<CheckpointState> {
  const path = checkpointPath(outDir);
  if (!existsSync(path)) throw new InputError(`--resume: no checkpoint at ${path}; run without --resume to start fresh.`);
  const state = unpackState<CheckpointState>(new Uint8Array(await readFile(path)), path);
  if (state.version !== VERSION) throw new InputError(`${path}: checkpoint version ${state.version} is not supported (expected ${VERSION}).`);
  if (expectedHash && state.configHash !== expectedHash)
    throw new InputError(`${path}: this checkpoint was written for a different scene config; resume with the same config, or use another --out folder.`);
  return state;
}
