/**
 * The viewer page: one WebGPURenderer (three falls back to its WebGL2 backend where the
 * browser has no WebGPU, or when the URL has ?webgl), orbit controls, a background and
 * SH-degree switch, the run's metrics beside the result, and for 4D results a time slider
 * with play/pause (timeline.js) over the baked frames or the exact field.
 * The page state is exposed as `window.rl4dViewer` for scripts and tests.
 */
import { Color, DirectionalLight, HemisphereLight, LinearSRGBColorSpace, PerspectiveCamera, SRGBColorSpace, Scene, Vector3, WebGPURenderer } from 'three/webgpu';
import { OrbitControls } from 'three/addons/controls/OrbitControls.js';
import { loadResult } from './result-loader.js';
import { parseMetricsJsonl, renderMetricsPanel } from './metrics.js';
import { createTimeline } from './timeline.js';

const $ = (/** @type {string} */ id) => /** @type {HTMLElement} */ (document.getElementById(id));
const canvas = /** @type {HTMLCanvasElement} */ ($('view'));
const status = $('status');
const resultSelect = /** @type {HTMLSelectElement} */ ($('result'));
const backgroundSelect = /** @type {HTMLSelectElement} */ ($('background'));
const shSelect = /** @type {HTMLSelectElement} */ ($('sh-degree'));

const forceWebGL = new URLSearchParams(location.search).has('webgl') || !('gpu' in navigator);
const renderer = new WebGPURenderer({ canvas, antialias: false, forceWebGL });
renderer.setPixelRatio(window.devicePixelRatio);
const scene = new Scene();
const camera = new PerspectiveCamera(50, 1, 0.01, 1000);
const controls = new OrbitControls(camera, canvas);
controls.enableDamping = false;
const sun = new DirectionalLight(0xffffff, 1.5);
sun.position.set(2, 4, 3);
scene.add(new HemisphereLight(0xffffff, 0x444444, 1.5), sun);

const state = {
  /** @type {import('./result-loader.js').LoadedResult | null} */
  result: null,
  frames: 0,
  /** frames rendered since the current result was shown */
  framesOfResult: 0,
  time: 0,
  /** 'frames' (the baked flip-book) or 'field' (the exact field, evaluated by the server) */
  timeMode: 'frames',
  /** the last time whose splats are on screen (null while one is being fetched) */
  /** @type {number | null} */
  shownTime: null,
  /** @type {string | null} */
  error: null,
  backend: forceWebGL ? 'WebGL2' : 'WebGPU',
};

/**
 * 3DGS colours are display-referred sRGB (KHR colorSpace srgb_rec709_display). three's
 * GaussianSplat passes them through as if linear, so the renderer's sRGB output transform
 * would encode them a second time and wash them out. With splats on screen the output is
 * therefore left untransformed; meshes (linear COLOR_0, lighting) keep sRGB output. The
 * background is set so that it shows the chosen colour either way.
 */
function applyColorManagement() {
  const splats = state.result?.hasSplats ?? false;
  renderer.outputColorSpace = splats ? LinearSRGBColorSpace : SRGBColorSpace;
  const chosen = new Color(backgroundSelect.value); // converted to linear working space
  scene.background = splats ? new Color().setRGB(...chosen.getRGB(new Color(), SRGBColorSpace).toArray(), LinearSRGBColorSpace) : chosen;
}

function resize() {
  const { clientWidth: w, clientHeight: h } = canvas;
  if (canvas.width !== Math.round(w * renderer.getPixelRatio()) || camera.aspect !== w / h) {
    renderer.setSize(w, h, false);
    camera.aspect = w / h;
    camera.updateProjectionMatrix();
  }
}

/**
 * Puts the camera on a sphere around the result: azimuth about +Y from +Z, elevation above
 * the horizon, in degrees; the distance frames the result's bounds.
 * @param {number} azimuth
 * @param {number} elevation
 */
function setCameraAngle(azimuth, elevation = 20) {
  const bounds = state.result?.bounds;
  const center = bounds && !bounds.isEmpty() ? bounds.getCenter(new Vector3()) : new Vector3();
  const radius = bounds && !bounds.isEmpty() ? Math.max(bounds.getSize(new Vector3()).length() / 2, 1e-3) : 1;
  const distance = (radius / Math.sin(((camera.fov / 2) * Math.PI) / 180)) * 1.05;
  const a = (azimuth * Math.PI) / 180;
  const e = (elevation * Math.PI) / 180;
  camera.position.set(center.x + distance * Math.cos(e) * Math.sin(a), center.y + distance * Math.sin(e), center.z + distance * Math.cos(e) * Math.cos(a));
  camera.near = distance / 100;
  camera.far = distance * 100;
  camera.updateProjectionMatrix();
  controls.target.copy(center);
  controls.update();
}

/** @param {number} degree */
function setShDegree(degree) {
  state.result?.setShDegree(degree);
  shSelect.value = String(degree);
}

/**
 * Shows the result at `time` (in the given mode, or the current one). Static results have no
 * time and are unaffected; a 4D result supplies `setTime` and `timeRange`, which the time
 * slider and play button drive through this. Resolves once that time is on screen.
 * @param {number} time
 * @param {string} [mode]
 */
async function setTime(time, mode = state.timeMode) {
  state.time = time;
  state.timeMode = mode;
  state.shownTime = null;
  timeline.sync(time, mode);
  const result = state.result;
  await result?.setTime?.(time, mode);
  if (state.result === result && state.time === time) state.shownTime = time;
}

const timeline = createTimeline(
  {
    container: $('timeline'),
    slider: /** @type {HTMLInputElement} */ ($('time')),
    play: /** @type {HTMLButtonElement} */ ($('play')),
    label: $('time-label'),
    mode: /** @type {HTMLSelectElement} */ ($('time-mode')),
  },
  (time, mode) => setTime(time, mode).catch(fail),
);

/** @param {{ name: string, url: string, format: string, time?: string }} entry */
async function show(entry) {
  status.textContent = `loading ${entry.name}…`;
  if (state.result) {
    scene.remove(state.result.root);
  }
  timeline.detach();
  const result = await loadResult(entry.url, entry.format, { timeUrl: entry.time });
  state.result = result;
  state.framesOfResult = 0;
  scene.add(result.root);
  shSelect.replaceChildren(...Array.from({ length: result.maxShDegree + 1 }, (_, d) => new Option(String(d), String(d))));
  shSelect.value = String(result.maxShDegree);
  shSelect.disabled = !result.hasSplats;
  $('info').textContent = result.hasSplats ? `${result.splatCount.toLocaleString()} splats, SH degree ${result.maxShDegree}` : 'mesh';
  applyColorManagement();
  setCameraAngle(30, 20);
  if (result.setTime && result.timeRange) {
    timeline.attach({ timeRange: result.timeRange, timeModes: result.timeModes, duration: result.duration });
    await setTime(result.timeRange[0], 'frames');
  }
  status.textContent = `${entry.name} · ${state.backend}`;
}

/** @param {string} url */
async function loadMetrics(url) {
  const response = await fetch(url, { cache: 'no-store' });
  if (response.ok) renderMetricsPanel($('metrics'), parseMetricsJsonl(await response.text()));
}

async function start() {
  await renderer.init();
  const manifest = await (await fetch('/api/manifest')).json();
  $('title').textContent = manifest.title;
  document.title = `rl4d · ${manifest.title}`;
  resultSelect.replaceChildren(...manifest.results.map((/** @type {{name: string}} */ r, /** @type {number} */ i) => new Option(r.name, String(i))));
  resultSelect.onchange = () => show(manifest.results[Number(resultSelect.value)]).catch(fail);
  backgroundSelect.onchange = applyColorManagement;
  shSelect.onchange = () => setShDegree(Number(shSelect.value));
  if (manifest.metrics) await loadMetrics(manifest.metrics);
  await show(manifest.results[0]);
  renderer.setAnimationLoop(() => {
    resize();
    controls.update();
    renderer.render(scene, camera);
    state.frames++;
    state.framesOfResult++;
  });
}

/** @param {unknown} e */
function fail(e) {
  state.error = e instanceof Error ? e.message : String(e);
  status.textContent = `error: ${state.error}`;
  console.error(e);
}

Object.assign(window, {
  rl4dViewer: {
    state,
    setCameraAngle,
    setShDegree,
    setTime,
    timeline,
    /** @param {string} hex */
    setBackground(hex) {
      backgroundSelect.value = hex;
      applyColorManagement();
    },
    /** Resolves after `n` more frames have been rendered. @param {number} n */
    waitFrames(n) {
      const target = state.frames + n;
      return new Promise((done) => {
        const check = () => (state.frames >= target ? done(state.frames) : requestAnimationFrame(check));
        check();
      });
    },
  },
});

start().catch(fail);
