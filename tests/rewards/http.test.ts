import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { decode } from 'fast-png';
import { useGpu } from '../helpers/gpu.ts';
import createHttpReward from '../../src/rewards/http.ts';
import { loadRewardPlugin } from '../../src/rewards/registry.ts';
import { uploadViews, type CpuViews } from '../../src/reference/rewards/analytic-scenes.ts';
import type { RewardViews } from '../../src/rewards/plugin.ts';
import { BLUE, RED, cube, render, ringCameras, sphere } from './helpers/scenes.ts';

const gpu = useGpu();
const asViews = (v: CpuViews, prompt: string): RewardViews => ({ ...uploadViews(gpu(), v), times: v.cameras.map(() => 0.25), prompt });

/** A toy reward server on 127.0.0.1: scores each PNG by how red its foreground is. */
let server: Server;
let url = '';
let requests = 0;
let failNext = 0;
let hang = false;
let lastPrompt = '';

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      requests++;
      if (hang) return; // never answers
      if (failNext > 0) {
        failNext--;
        res.writeHead(503).end('busy');
        return;
      }
      const msg = JSON.parse(body);
      lastPrompt = msg.prompt;
      const scores = msg.views.map((v: { image: string; time: number }) => {
        const png = decode(Buffer.from(v.image.split(',')[1], 'base64'));
        let red = 0, n = 0;
        for (let p = 0; p < png.width * png.height; p++) {
          if (png.data[p * 4 + 3] < 128) continue;
          n++;
          red += (png.data[p * 4] - png.data[p * 4 + 2]) / 255;
        }
        return n ? red / n : 0;
      });
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ scores }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/score`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

describe('http reward', () => {
  const cams = ringCameras(2, 24);
  const redCube = render([cube(RED)], cams);
  const blueSphere = render([sphere(BLUE)], cams);

  it('sends PNGs and the prompt, and returns the server scores per view', async () => {
    const plugin = createHttpReward({ url });
    const red = await plugin.score(asViews(redCube, 'a red cube'), gpu());
    const blue = await plugin.score(asViews(blueSphere, 'a red cube'), gpu());
    expect(lastPrompt).toBe('a red cube');
    expect(red.scores.length).toBe(2);
    expect(Math.min(...red.scores)).toBeGreaterThan(Math.max(...blue.scores) + 0.2);
  });

  it('retries a busy server', async () => {
    const plugin = createHttpReward({ url, retries: 2, retryDelayMs: 10 });
    failNext = 2;
    requests = 0;
    const r = await plugin.score(asViews(redCube, 'x'), gpu());
    expect(requests).toBe(3);
    expect(r.scores[0]).toBeGreaterThan(0);
  });

  it('times out on a server that does not answer', async () => {
    hang = true;
    try {
      const plugin = createHttpReward({ url, timeoutMs: 150, retries: 1, retryDelayMs: 10 });
      await expect(plugin.score(asViews(redCube, 'x'), gpu())).rejects.toThrow(/did not answer within 150 ms \(after 2 attempts\)/);
    } finally {
      hang = false;
    }
  });

  it('gives a clear error when the server is down, and validates its url option', async () => {
    const down = await new Promise<string>((resolve) => {
      const s = createServer();
      s.listen(0, '127.0.0.1', () => {
        const port = (s.address() as AddressInfo).port;
        s.close(() => resolve(`http://127.0.0.1:${port}/`));
      });
    });
    const plugin = createHttpReward({ url: down, retries: 1, retryDelayMs: 5 });
    await expect(plugin.score(asViews(redCube, 'x'), gpu())).rejects.toThrow(/not reachable \(connection refused\).*server is running/);
    await expect(loadRewardPlugin({ name: 'http', weight: 1, options: { url: 'ftp://x' } }, '.')).rejects.toThrow(/'http'.*url/);
    await expect(loadRewardPlugin({ name: 'http', weight: 1 }, '.')).rejects.toThrow(/'http'.*'url' is required/);
  });
});
