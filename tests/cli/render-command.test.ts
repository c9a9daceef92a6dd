// `rl4d render` end to end, as a user runs it: a child process, files on disk, exit codes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomGaussiansInSphere } from '../../src/scene/gaussian-init.ts';
import { writePly } from '../../src/io/ply.ts';
import { orbitCamera } from '../../src/math/camera.ts';
import { referenceRender } from '../../src/reference/splat/render.ts';
import { maxAbsDiff } from '../helpers/compare.ts';

let dir: string;
const scene = randomGaussiansInSphere({ count: 300, radius: 0.6, shDegree: 1, seed: 7 });
const cameras = [
  orbitCamera({ elevation: 20, azimuth: 30, radius: 3, width: 40, height: 30 }),
  orbitCamera({ elevation: -10, azimuth: 200, radius: 3.5, width: 40, height: 30 }),
];
const camerasJson = cameras.map((c) => ({ ...c, viewmat: Array.from(c.viewmat) }));

function rl4d(...args: string[]) {
  const r = spawnSync(process.execPath, ['bin/rl4d.js', ...args], { encoding: 'utf8', env: { ...process.env } });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

function readNpy(path: string): Float32Array {
  const bytes = readFileSync(path);
  const headerLen = bytes.readUInt16LE(8);
  const body = bytes.subarray(10 + headerLen);
  return new Float32Array(body.buffer.slice(body.byteOffset, body.byteOffset + body.byteLength));
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'rl4d-render-'));
  writeFileSync(join(dir, 'scene.ply'), writePly(scene));
  writeFileSync(join(dir, 'cams.json'), JSON.stringify(camerasJson));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('rl4d render', () => {
  it('writes npy arrays that match the reference renderer', () => {
    const out = join(dir, 'npy');
    const r = rl4d('render', join(dir, 'scene.ply'), '--cameras', join(dir, 'cams.json'), '--out', out, '--format', 'npy', '--background', '0.2,0.3,0.4');
    expect(r.code, r.err).toBe(0);
    expect(readdirSync(out).sort()).toEqual(['view_000_alpha.npy', 'view_000_depth.npy', 'view_000_rgb.npy', 'view_001_alpha.npy', 'view_001_depth.npy', 'view_001_rgb.npy']);
    const ref = referenceRender(scene, cameras, { background: [0.2, 0.3, 0.4] });
    const px = 40 * 30;
    for (let v = 0; v < 2; v++) {
      const rgb = readNpy(join(out, `view_00${v}_rgb.npy`));
      const alpha = readNpy(join(out, `view_00${v}_alpha.npy`));
      expect(maxAbsDiff(rgb, ref.rgb.subarray(v * px * 3, (v + 1) * px * 3))).toBeLessThan(1e-4);
      expect(maxAbsDiff(alpha, ref.alpha.subarray(v * px, (v + 1) * px))).toBeLessThan(1e-4);
      expect(alpha.some((a) => a > 0.5)).toBe(true);
    }
  });

  it('writes one PNG per view', () => {
    const out = join(dir, 'png');
    const r = rl4d('render', join(dir, 'scene.ply'), '--cameras', join(dir, 'cams.json'), '--out', out);
    expect(r.code, r.err).toBe(0);
    expect(readdirSync(out).sort()).toEqual(['view_000.png', 'view_001.png']);
  });

  it('rejects a truncated PLY with exit code 2 and no output', () => {
    const bytes = readFileSync(join(dir, 'scene.ply'));
    writeFileSync(join(dir, 'truncated.ply'), bytes.subarray(0, bytes.length - 100));
    const out = join(dir, 'bad1');
    const r = rl4d('render', join(dir, 'truncated.ply'), '--cameras', join(dir, 'cams.json'), '--out', out);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/truncated\.ply/);
    expect(() => readdirSync(out)).toThrow();
  });

  it('names the missing camera field', () => {
    const bad = camerasJson.map((c, i) => (i === 1 ? { ...c, fy: undefined } : c));
    writeFileSync(join(dir, 'bad-cams.json'), JSON.stringify(bad));
    const r = rl4d('render', join(dir, 'scene.ply'), '--cameras', join(dir, 'bad-cams.json'), '--out', join(dir, 'bad2'));
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/camera 1: missing field 'fy'/);
  });

  it('names the splat with NaN parameters', () => {
    const nan = { ...scene, means: scene.means.slice() };
    nan.means[3 * 42 + 1] = NaN;
    writeFileSync(join(dir, 'nan.ply'), writePly(nan));
    const r = rl4d('render', join(dir, 'nan.ply'), '--cameras', join(dir, 'cams.json'), '--out', join(dir, 'bad3'));
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/'means' of splat 42/);
  });

  it('refuses a scene over the device buffer limit, naming the limit', () => {
    const r = spawnSync(process.execPath, ['bin/rl4d.js', 'render', join(dir, 'scene.ply'), '--cameras', join(dir, 'cams.json'), '--out', join(dir, 'bad4')], {
      encoding: 'utf8',
      env: { ...process.env, RL4D_BUFFER_LIMIT: '2048' },
    });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/maxStorageBufferBindingSize|maxBufferSize/);
    expect(() => readdirSync(join(dir, 'bad4'))).toThrow();
  });
});
