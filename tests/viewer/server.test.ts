import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveTarget, startViewerServer, type ViewerServer } from '../../src/viewer/server.ts';
import { parseMetricsJsonl } from '../../src/viewer/metrics.js';
import { InputError } from '../../src/errors.ts';

const dir = mkdtempSync(join(tmpdir(), 'rl4d-viewer-server-'));
let server: ViewerServer;

beforeAll(async () => {
  writeFileSync(join(dir, 'b.ply'), 'ply-bytes');
  writeFileSync(join(dir, 'a.glb'), 'glb-bytes');
  writeFileSync(join(dir, 'notes.txt'), 'secret');
  writeFileSync(join(dir, 'metrics.jsonl'), '{"step":0,"reward":1}\n');
  server = await startViewerServer(await resolveTarget(dir), 0);
});
afterAll(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

const get = (path: string) => fetch(new URL(path, server.url));

describe('viewer server', () => {
  it('lists the results of a folder and its metrics', async () => {
    const manifest = await (await get('/api/manifest')).json();
    expect(manifest.results.map((r: { name: string }) => r.name)).toEqual(['a.glb', 'b.ply']);
    expect(manifest.results[0]).toMatchObject({ format: 'glb', url: '/files/a.glb' });
    expect(manifest.metrics).toBe('/files/metrics.jsonl');
    expect(await (await get('/files/b.ply')).text()).toBe('ply-bytes');
  });

  it('serves the page, its modules and three from node_modules with an import map', async () => {
    const html = await (await get('/')).text();
    expect(html).toContain('"three/webgpu": "/three/build/three.webgpu.js"');
    expect((await get('/app/app.js')).headers.get('content-type')).toMatch(/javascript/);
    const addon = await get('/three/examples/jsm/objects/GaussianSplat.js');
    expect(addon.status).toBe(200);
    expect(await addon.text()).toContain('class GaussianSplat');
  });

  it('serves nothing else', async () => {
    for (const path of ['/files/notes.txt', '/files/..%2Fetc%2Fpasswd', '/three/package.json', '/three/build/..%2F..%2F..%2Fpackage.json', '/app/server.ts', '/app/..%2Fio%2Fply.ts'])
      expect((await get(path)).status, path).toBe(404);
  });

  it('rejects targets it cannot show', async () => {
    await expect(resolveTarget(join(dir, 'missing.glb'))).rejects.toThrow(/no such file or folder/);
    await expect(resolveTarget(join(dir, 'notes.txt'))).rejects.toBeInstanceOf(InputError);
    const empty = mkdtempSync(join(tmpdir(), 'rl4d-viewer-empty-'));
    await expect(resolveTarget(empty)).rejects.toThrow(/holds no .glb, .ply, .splat file/);
    rmSync(empty, { recursive: true });
    const target = await resolveTarget(join(dir, 'a.glb'));
    expect(target.results).toEqual(['a.glb']);
  });

  it('reports a port in use as an input error', async () => {
    const port = Number(new URL(server.url).port);
    await expect(startViewerServer(await resolveTarget(dir), port)).rejects.toThrow(new RegExp(`port ${port} is in use`));
  });
});

describe('metrics.jsonl parsing', () => {
  it('charts every numeric field against step and skips the rest', () => {
    const text = [
      '{"step": 0, "reward/clip": 0.1, "loss": 2, "phase": "warmup"}',
      '{"step": 10, "reward/clip": 0.3, "loss": 1.5, "lr": 0.01}',
      '{"step": 20, "reward/clip": 0.5',
      '[1, 2]',
      '',
      '{"step": 30, "loss": null, "reward/clip": 0.6}',
    ].join('\n');
    const parsed = parseMetricsJsonl(text);
    expect(parsed.skipped).toBe(2);
    expect(Object.fromEntries(parsed.series.map((s) => [s.name, s.points]))).toEqual({
      'reward/clip': [[0, 0.1], [10, 0.3], [30, 0.6]],
      loss: [[0, 2], [10, 1.5]],
      lr: [[10, 0.01]],
    });
  });

  it('uses the line number when a record has no step', () => {
    const parsed = parseMetricsJsonl('{"a": 5}\n{"a": 7}\n');
    expect(parsed.series[0].points).toEqual([[0, 5], [1, 7]]);
  });
});
