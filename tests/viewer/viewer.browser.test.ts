/**
 * Opens the viewer in headless Chromium (Debian's /usr/bin/chromium through playwright-core)
 * on results the test exports itself, and checks what a person would see.
 * Screenshots go to $RL4D_SCREENSHOT_DIR (or a temporary folder, printed).
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { decode } from 'fast-png';
import { writeSplatGlb } from '../../src/io/glb.ts';
import { writePly } from '../../src/io/ply.ts';
import { emptyGaussians, SH_C0 } from '../../src/scene/gaussian-data.ts';
import { resolveTarget, startViewerServer, type ViewerServer } from '../../src/viewer/server.ts';
import { coloredSphere } from '../io/synthetic.ts';
import { splatsToMesh } from '../../src/io/splat-mesh.ts';
import { writeMeshGlb } from '../../src/io/mesh-glb.ts';

const CHROMIUM = '/usr/bin/chromium';
const work = mkdtempSync(join(tmpdir(), 'rl4d-viewer-browser-'));
const shots = process.env.RL4D_SCREENSHOT_DIR ?? join(work, 'screenshots');
let context: BrowserContext;
const servers: ViewerServer[] = [];

interface Image {
  width: number;
  height: number;
  pixel(x: number, y: number): [number, number, number];
}

async function canvasImage(page: Page, name: string): Promise<Image> {
  const png = await page.locator('#view').screenshot();
  writeFileSync(join(shots, `${name}.png`), png);
  const img = decode(png);
  const channels = img.channels;
  return {
    width: img.width,
    height: img.height,
    pixel: (x, y) => {
      const at = (y * img.width + x) * channels;
      return [img.data[at], img.data[at + 1], img.data[at + 2]];
    },
  };
}

/** Fraction of pixels that differ from `background` by more than 8 levels in some channel. */
function coverage(img: Image, background: number[]): number {
  let differ = 0;
  for (let y = 0; y < img.height; y += 2)
    for (let x = 0; x < img.width; x += 2) if (img.pixel(x, y).some((v, c) => Math.abs(v - background[c]) > 8)) differ++;
  return differ / (Math.ceil(img.height / 2) * Math.ceil(img.width / 2));
}

function meanDifference(a: Image, b: Image): number {
  let sum = 0;
  for (let y = 0; y < a.height; y++) for (let x = 0; x < a.width; x++) {
    const p = a.pixel(x, y);
    const q = b.pixel(x, y);
    sum += Math.abs(p[0] - q[0]) + Math.abs(p[1] - q[1]) + Math.abs(p[2] - q[2]);
  }
  return sum / (a.width * a.height * 3);
}

/** Serves `target`, opens the page with three's WebGL2 backend and waits for frames of the result. */
async function open(target: string): Promise<Page> {
  const server = await startViewerServer(await resolveTarget(target), 0);
  servers.push(server);
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`${server.url}?webgl`);
  await page.waitForFunction(() => {
    const v = (window as any).rl4dViewer;
    return v && (v.state.error || v.state.framesOfResult > 2);
  }, null, { timeout: 60_000 });
  const state = await page.evaluate(() => ({ error: (window as any).rl4dViewer.state.error, backend: (window as any).rl4dViewer.state.backend }));
  expect(errors).toEqual([]);
  expect(state).toEqual({ error: null, backend: 'WebGL2' });
  return page;
}

async function turn(page: Page, azimuth: number): Promise<void> {
  await page.evaluate((a) => (window as any).rl4dViewer.setCameraAngle(a, 20), azimuth);
  await page.evaluate(() => (window as any).rl4dViewer.waitFrames(3));
}

const DARK = [0x1b, 0x1d, 0x22];

beforeAll(async () => {
  mkdirSync(shots, { recursive: true });
  // Half of the sphere red-ish, so that turning the camera changes the picture.
  const sphere = coloredSphere(1500, 1, 3);
  mkdirSync(join(work, 'run'));
  writeFileSync(join(work, 'run', 'result.glb'), writeSplatGlb(sphere));
  writeFileSync(join(work, 'run', 'metrics.jsonl'), Array.from({ length: 40 }, (_, i) => JSON.stringify({ step: i * 10, reward: 1 - Math.exp(-i / 8), loss: Math.exp(-i / 6), stage: 'a' })).join('\n'));
  writeFileSync(join(work, 'sphere.ply'), writePly(coloredSphere(1500, 3, 4)));
  writeFileSync(join(work, 'mesh.glb'), writeMeshGlb(splatsToMesh(coloredSphere(300, 0, 5), { resolution: 24 })));
  // One large, nearly opaque splat of a known display colour, for the colour check.
  const flat = emptyGaussians(1, 0);
  flat.quats[0] = 1;
  flat.logScales.fill(Math.log(1));
  flat.opacityLogits[0] = 8;
  [0.2, 0.4, 0.8].forEach((c, i) => (flat.sh[i] = (c - 0.5) / SH_C0));
  writeFileSync(join(work, 'flat.glb'), writeSplatGlb(flat));
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing; install Debian's chromium.`);
  context = await chromium.launchPersistentContext(join(work, 'profile'), {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 960, height: 600 },
    args: ['--headless', '--no-sandbox', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
});

afterAll(async () => {
  await context?.close();
  for (const s of servers) await s.close();
  if (!process.env.RL4D_SCREENSHOT_DIR) console.log(`viewer screenshots: ${shots}`);
  else rmSync(join(work, 'profile'), { recursive: true, force: true });
});

describe('viewer in headless Chromium (WebGL2)', () => {
  it('shows an exported GLB with its metrics, and the view changes with the camera', async () => {
    const page = await open(join(work, 'run'));
    const front = await canvasImage(page, 'glb-front');
    expect(coverage(front, DARK)).toBeGreaterThan(0.05);
    await turn(page, 210);
    const back = await canvasImage(page, 'glb-back');
    expect(coverage(back, DARK)).toBeGreaterThan(0.05);
    expect(meanDifference(front, back)).toBeGreaterThan(3);
    const charts = await page.locator('#metrics .metric').evaluateAll((els) => els.map((e) => (e as HTMLElement).dataset.series));
    expect(charts).toEqual(['reward', 'loss']);
    await turn(page, 30);
    writeFileSync(join(shots, 'viewer-page.png'), await page.screenshot());
    await page.close();
  });

  it('shows a PLY, and the SH-degree switch changes the picture', async () => {
    const page = await open(join(work, 'sphere.ply'));
    const first = await canvasImage(page, 'ply-front');
    expect(coverage(first, DARK)).toBeGreaterThan(0.05);
    expect(await page.locator('#sh-degree option').count()).toBe(4);
    await turn(page, 120);
    const turned = await canvasImage(page, 'ply-turned');
    expect(meanDifference(first, turned)).toBeGreaterThan(3);
    await page.evaluate(() => (window as any).rl4dViewer.setShDegree(0));
    await page.evaluate(() => (window as any).rl4dViewer.waitFrames(3));
    const degree0 = await canvasImage(page, 'ply-sh0');
    expect(meanDifference(turned, degree0)).toBeGreaterThan(0.5);
    await page.close();
  });

  it('shows a mesh GLB with vertex colours', async () => {
    const page = await open(join(work, 'mesh.glb'));
    const img = await canvasImage(page, 'mesh');
    expect(coverage(img, DARK)).toBeGreaterThan(0.05);
    expect(await page.locator('#sh-degree').isDisabled()).toBe(true);
    await page.close();
  });

  it('does not sRGB-encode splat colours twice', async () => {
    const page = await open(join(work, 'flat.glb'));
    await page.evaluate(() => (window as any).rl4dViewer.setBackground('#808080'));
    await page.evaluate(() => (window as any).rl4dViewer.waitFrames(3));
    const img = await canvasImage(page, 'colour');
    const centre = img.pixel(img.width >> 1, img.height >> 1);
    // Display colour (0.2, 0.4, 0.8) -> (51, 102, 204); encoded twice it would be about (124, 170, 231).
    centre.forEach((v, c) => expect(Math.abs(v - [51, 102, 204][c]), `channel ${c} = ${v}`).toBeLessThan(10));
    // The background shows the chosen colour, not a re-encoded one.
    expect(img.pixel(3, 3).map((v) => Math.abs(v - 128)).every((d) => d <= 2)).toBe(true);
    await page.close();
  });
});
