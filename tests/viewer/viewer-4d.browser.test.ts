/**
 * The viewer's 4D playback in headless Chromium (Debian's /usr/bin/chromium through
 * playwright-core, WebGL2): an exported 4D GLB shows the time slider, two slider positions on
 * different baked frames show different images while two positions on the same frame do not,
 * and the exact field (evaluated by the server) shows in-between times the flip-book cannot.
 * Screenshots go to $RL4D_SCREENSHOT_DIR (or a temporary folder, printed).
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { decode } from 'fast-png';
import { write4dGlb } from '../../src/io/glb-4d.ts';
import { writeSplatGlb } from '../../src/io/glb.ts';
import type { TrajectoryState } from '../../src/scene/deform/deformation-field.ts';
import { resolveTarget, startViewerServer, type ViewerServer } from '../../src/viewer/server.ts';
import { coloredSphere } from '../io/synthetic.ts';

const CHROMIUM = '/usr/bin/chromium';
const work = mkdtempSync(join(tmpdir(), 'rl4d-viewer-4d-'));
const shots = process.env.RL4D_SCREENSHOT_DIR ?? join(work, 'screenshots');
let context: BrowserContext;
let server: ViewerServer;
let page: Page;
const FRAMES = 5;

/** Canvas screenshot as RGB bytes (saved beside the others). */
async function canvas(name: string): Promise<{ data: Uint8Array; channels: number; pixels: number }> {
  await page.evaluate(() => (window as any).rl4dViewer.waitFrames(3));
  const png = await page.locator('#view').screenshot();
  writeFileSync(join(shots, `4d-${name}.png`), png);
  const img = decode(png);
  return { data: img.data as Uint8Array, channels: img.channels, pixels: img.width * img.height };
}

function meanDifference(a: Awaited<ReturnType<typeof canvas>>, b: Awaited<ReturnType<typeof canvas>>): number {
  let sum = 0;
  for (let p = 0; p < a.pixels; p++) for (let c = 0; c < 3; c++) sum += Math.abs(a.data[p * a.channels + c] - b.data[p * b.channels + c]);
  return sum / (a.pixels * 3);
}

/** Moves the slider like a person (input events) and waits until that time is on screen. */
async function slide(value: number): Promise<void> {
  await page.locator('#time').fill(String(value));
  await page.waitForFunction((t) => (window as any).rl4dViewer.state.shownTime === t, Number((await page.locator('#time').inputValue())), { timeout: 30_000 });
}

async function showTime(time: number, mode: string): Promise<void> {
  await page.evaluate(([t, m]) => (window as any).rl4dViewer.setTime(t, m), [time, mode] as const);
}

beforeAll(async () => {
  mkdirSync(shots, { recursive: true });
  // A sphere sliding 1.2 units along +x and rising over t in [0, 1] (linear trajectory).
  const sphere = coloredSphere(1200, 0, 7, 0.6);
  const config = { timeRange: [0, 1] as [number, number], degree: 1, frequencies: 0, rotation: false, lr: 1e-3 };
  const position = new Float32Array(sphere.count * 3);
  for (let i = 0; i < sphere.count; i++) position.set([1.2, 0.4, 0], i * 3);
  const state: TrajectoryState = { kind: 'trajectory', config, count: sphere.count, position, rotation: null };
  mkdirSync(join(work, 'run'));
  writeFileSync(join(work, 'run', 'motion.glb'), write4dGlb(sphere, state, { frames: FRAMES, fps: 4 }));
  writeFileSync(join(work, 'run', 'still.glb'), writeSplatGlb(sphere));
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing; install Debian's chromium.`);
  server = await startViewerServer(await resolveTarget(join(work, 'run')), 0);
  context = await chromium.launchPersistentContext(join(work, 'profile'), {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 900, height: 560 },
    args: ['--headless', '--no-sandbox', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`${server.url}?webgl`);
  await page.waitForFunction(() => {
    const v = (window as any).rl4dViewer;
    return v && (v.state.error || (v.state.framesOfResult > 2 && v.state.shownTime !== null));
  }, null, { timeout: 60_000 });
  expect(errors).toEqual([]);
  expect(await page.evaluate(() => (window as any).rl4dViewer.state.error)).toBeNull();
});

afterAll(async () => {
  await context?.close();
  await server?.close();
  if (!process.env.RL4D_SCREENSHOT_DIR) console.log(`viewer 4D screenshots: ${shots}`);
  rmSync(join(work, 'profile'), { recursive: true, force: true });
});

describe('viewer 4D playback in headless Chromium (WebGL2)', () => {
  it('shows the time slider for a 4D GLB and plays its baked frames', async () => {
    expect(await page.locator('#timeline').isVisible()).toBe(true);
    expect(await page.locator('#time-mode option').evaluateAll((o) => o.map((e) => (e as HTMLOptionElement).value))).toEqual(['frames', 'field']);
    await slide(0);
    const first = await canvas('frame-t0.00');
    await slide(0.08); // still nearest to frame 0 (frames at 0, 0.25, 0.5, 0.75, 1)
    const sameFrame = await canvas('frame-t0.08');
    await slide(1);
    const last = await canvas('frame-t1.00');
    const moved = meanDifference(first, last);
    const same = meanDifference(first, sameFrame);
    console.log(`flip-book: mean |difference| frame 0 vs frame 4 ${moved.toFixed(2)}, t=0 vs t=0.08 (same frame) ${same.toFixed(3)}`);
    expect(moved).toBeGreaterThan(3);
    expect(same).toBeLessThan(0.2);
    writeFileSync(join(shots, '4d-viewer-page.png'), await page.screenshot());
  });

  it('plays the exact field: in-between times the flip-book cannot show, matching the baked frames at frame times', async () => {
    await showTime(0.125, 'frames');
    const frameNear = await canvas('frames-t0.125');
    await showTime(0.125, 'field');
    const exact = await canvas('field-t0.125');
    await showTime(0.25, 'frames');
    const frame1 = await canvas('frames-t0.25');
    await showTime(0.25, 'field');
    const exactAtFrame = await canvas('field-t0.25');
    const between = meanDifference(frameNear, exact);
    const atFrame = meanDifference(frame1, exactAtFrame);
    console.log(`field: t=0.125 frame vs field ${between.toFixed(2)}; t=0.25 frame vs field ${atFrame.toFixed(3)}`);
    expect(between).toBeGreaterThan(1);
    expect(atFrame).toBeLessThan(0.2);
    // The slider drives the field mode too.
    await slide(0.9);
    const late = await canvas('field-t0.90');
    expect(meanDifference(exactAtFrame, late)).toBeGreaterThan(3);
    expect(await page.evaluate(() => (window as any).rl4dViewer.state.timeMode)).toBe('field');
  });

  it('play advances the time; a static result hides the timeline', async () => {
    await showTime(0, 'frames');
    const before = await page.evaluate(() => (window as any).rl4dViewer.state.time);
    await page.locator('#play').click();
    await page.waitForFunction((t0) => (window as any).rl4dViewer.state.time > t0 + 0.1, before, { timeout: 20_000 });
    await page.locator('#play').click();
    expect(await page.evaluate(() => (window as any).rl4dViewer.timeline.playing)).toBe(false);
    await page.selectOption('#result', { label: 'still.glb' });
    await page.waitForFunction(() => document.getElementById('timeline')!.hidden, null, { timeout: 30_000 });
    expect(await page.locator('#timeline').isVisible()).toBe(false);
  });

  it('the server evaluates the field for ?t= and refuses what it cannot evaluate', async () => {
    const ok = await fetch(`${server.url}api/time?name=motion.glb&t=0.5`);
    expect(ok.status).toBe(200);
    expect(ok.headers.get('content-type')).toBe('model/gltf-binary');
    expect((await fetch(`${server.url}api/time?name=motion.glb&t=abc`)).status).toBe(400);
    const stillAnswer = await fetch(`${server.url}api/time?name=still.glb&t=0.5`);
    expect(stillAnswer.status).toBe(400);
    expect(await stillAnswer.text()).toMatch(/still\.glb: no RL4D_deformation_field/);
    expect((await fetch(`${server.url}api/time?name=../x.glb&t=0`)).status).toBe(404);
  });
});
