/**
 * Writes a file so that readers never see a partial result: the bytes go to a temporary
 * name in the same folder (same filesystem, so rename is atomic) and are renamed when
 * complete. On failure the temporary file is removed and the target is left untouched.
 */
import { writeFile, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';

export async function writeFileAtomic(path: string, data: Uint8Array | string): Promise<void> {
  const temp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    await writeFile(temp, data);
    await rename(temp, path);
  } catch (e) {
    await rm(temp, { force: true });
    throw e;
  }
}
