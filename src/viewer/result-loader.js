/**
 * Loads one result into a three.js object: GLB through GLTFLoader with three's
 * KHR_gaussian_splatting extension (splats and meshes alike), PLY and .splat through three's
 * splat loaders. Returns a handle the page uses to limit the SH degree; 4D GLB results (with
 * rl4d's RL4D_deformation_field extension) also carry `setTime` and `timeRange` (see app.js):
 * they play either their baked flip-book frames or the exact field, evaluated by the server.
 */
import { Box3, Group, Vector3 } from 'three/webgpu';
import { GLTFLoader } from 'three/addons/loaders/GLTFLoader.js';
import { GLTFGaussianSplatLoaderExtension } from 'three/addons/loaders/GLTFGaussianSplatLoaderExtension.js';
import { GaussianSplatPLYLoader } from 'three/addons/loaders/GaussianSplatPLYLoader.js';
import { SPLATLoader } from 'three/addons/loaders/SPLATLoader.js';
import { GaussianSplat } from 'three/addons/objects/GaussianSplat.js';
import { createGaussianSplatGeometry } from 'three/addons/utils/GaussianSplatUtils.js';

/**
 * @typedef {object} LoadedResult
 * @property {import('three').Object3D} root
 * @property {number} splatCount
 * @property {number} maxShDegree highest SH degree among the splats (0 when none)
 * @property {boolean} hasSplats
 * @property {(degree: number) => void} setShDegree shows SH bands up to `degree`
 * @property {import('three').Box3} bounds
 * @property {((time: number, mode?: string) => Promise<void>) | undefined} setTime present on results that vary in time
 * @property {[number, number] | undefined} timeRange
 * @property {string[] | undefined} timeModes 'frames' (the baked flip-book) and, where the server evaluates it, 'field'
 * @property {number | undefined} duration seconds one pass over timeRange takes at the flip-book's frame rate
 */

const DEFORMATION_EXTENSION = 'RL4D_deformation_field';

function gltfLoader() {
  const loader = new GLTFLoader();
  loader.register((parser) => new GLTFGaussianSplatLoaderExtension(parser));
  return loader;
}

/**
 * @param {string} url
 * @param {string} format 'glb' | 'ply' | 'splat'
 * @param {{ timeUrl?: string }} [options] timeUrl: where the server evaluates a 4D GLB's field (`&t=` is appended)
 * @returns {Promise<LoadedResult>}
 */
export async function loadResult(url, format, options = {}) {
  const root = new Group();
  /** @type {ReturnType<typeof flipBook> | null} */
  let frames = null;
  if (format === 'glb') {
    const gltf = await gltfLoader().loadAsync(url);
    root.add(gltf.scene);
    const extension = gltf.parser.json.extensions?.[DEFORMATION_EXTENSION];
    if (extension) frames = flipBook(gltf, extension);
  } else if (format === 'ply') {
    root.add(new GaussianSplat(await new GaussianSplatPLYLoader().loadAsync(url)));
  } else if (format === 'splat') {
    root.add(new GaussianSplat(await new SPLATLoader().loadAsync(url)));
  } else {
    throw new Error(`unknown result format '${format}'`);
  }
  root.updateMatrixWorld(true);
  const splats = collectSplats(root);
  const full = new Map(splats.map((s) => [s, s.splatGeometry]));
  let current = splats;
  let shDegree = Math.max(0, ...splats.map((s) => shDegreeOf(s.splatGeometry)));
  const handle = {
    root,
    splatCount: splats.reduce((n, s) => n + s.splatGeometry.getAttribute('position').count, 0),
    maxShDegree: Math.max(0, ...splats.map((s) => shDegreeOf(s.splatGeometry))),
    hasSplats: splats.length > 0,
    bounds: boundsOf(root),
    /** @param {number} degree */
    setShDegree(degree) {
      shDegree = degree;
      timed?.setShDegree();
      current = current.map((splat) => {
        const original = /** @type {import('three').BufferGeometry} */ (full.get(splat));
        const replacement = new GaussianSplat(withShDegree(original, degree));
        replacement.name = splat.name;
        replacement.position.copy(splat.position);
        replacement.quaternion.copy(splat.quaternion);
        replacement.scale.copy(splat.scale);
        full.set(replacement, original);
        full.delete(splat);
        splat.parent?.add(replacement);
        splat.removeFromParent();
        splat.geometry.dispose();
        splat.material.dispose();
        return replacement;
      });
    },
    setTime: undefined,
    timeRange: undefined,
    timeModes: undefined,
    duration: undefined,
  };
  const timed = frames ? timedPlayback(root, frames, options.timeUrl, () => shDegree) : null;
  if (timed && frames) {
    Object.assign(handle, { setTime: timed.setTime, timeRange: frames.timeRange, timeModes: timed.modes, duration: frames.duration });
    handle.splatCount /= frames.frames.length; // splats per frame
  }
  return /** @type {LoadedResult} */ (handle);
}

/**
 * The flip-book of a 4D GLB: each frame's node wrapped in its own group, so that visibility
 * survives the SH switch (which replaces the splat objects inside their parents). three's
 * GLTFLoader does not apply KHR_node_visibility, so the frames are shown and hidden here.
 * @param {any} gltf
 * @param {{ timeRange: [number, number], fps: number, frames: { node: number, time: number }[] }} extension
 */
function flipBook(gltf, extension) {
  /** @type {Map<number, import('three').Object3D>} */
  const byNode = new Map();
  gltf.scene.traverse((/** @type {import('three').Object3D} */ o) => {
    const nodes = gltf.parser.associations.get(o)?.nodes;
    if (nodes !== undefined && !byNode.has(nodes)) byNode.set(nodes, o);
  });
  const frames = extension.frames.map((f) => {
    const object = byNode.get(f.node);
    if (!object || !object.parent) throw new Error(`4D GLB: frame node ${f.node} was not loaded`);
    const wrapper = new Group();
    wrapper.name = `frame t=${f.time}`;
    object.parent.add(wrapper);
    wrapper.add(object);
    return { time: f.time, wrapper };
  });
  return {
    frames,
    timeRange: extension.timeRange,
    duration: extension.frames.length / extension.fps,
  };
}

/**
 * setTime for a 4D result. 'frames' shows the baked frame nearest to the time; 'field' asks
 * the server for the field evaluated at exactly that time and shows it in place of the
 * frames. Only the latest field request is shown when several overlap.
 * @param {Group} root
 * @param {ReturnType<typeof flipBook>} book
 * @param {string | undefined} timeUrl
 * @param {() => number} currentShDegree
 */
function timedPlayback(root, book, timeUrl, currentShDegree) {
  const fieldGroup = new Group();
  fieldGroup.name = 'field';
  root.add(fieldGroup);
  /** @type {any} */
  let fieldSplat = null;
  /** @type {import('three').BufferGeometry | null} the last evaluated splats, all SH bands */
  let fieldGeometry = null;
  let request = 0;
  /** @param {boolean} showFrames @param {number} index */
  const showFrame = (showFrames, index) => book.frames.forEach((f, k) => (f.wrapper.visible = showFrames && k === index));
  function rebuildFieldSplat() {
    if (fieldSplat) {
      fieldSplat.removeFromParent();
      fieldSplat.geometry.dispose();
      fieldSplat.material.dispose();
    }
    fieldSplat = fieldGeometry ? new GaussianSplat(withShDegree(fieldGeometry, currentShDegree())) : null;
    if (fieldSplat) fieldGroup.add(fieldSplat);
  }
  /** @param {number} time */
  async function showField(time) {
    const id = ++request;
    const gltf = await gltfLoader().loadAsync(`${timeUrl}&t=${encodeURIComponent(String(time))}`);
    const splat = collectSplats(gltf.scene)[0];
    if (!splat) throw new Error(`the server returned no splats for t=${time}`);
    if (id !== request) return; // a later time was asked for meanwhile
    fieldGeometry?.dispose();
    fieldGeometry = splat.splatGeometry;
    rebuildFieldSplat();
    fieldGroup.visible = true;
    showFrame(false, -1);
  }
  let mode = 'frames';
  return {
    modes: timeUrl ? ['frames', 'field'] : ['frames'],
    /** @param {number} time @param {string} [nextMode] */
    async setTime(time, nextMode = mode) {
      if (nextMode === 'field' && !timeUrl) throw new Error('this result has no exact field evaluation');
      mode = nextMode;
      if (mode === 'field') return showField(time);
      request++; // drop field answers still on their way
      fieldGroup.visible = false;
      let nearest = 0;
      book.frames.forEach((f, k) => {
        if (Math.abs(f.time - time) < Math.abs(book.frames[nearest].time - time)) nearest = k;
      });
      showFrame(true, nearest);
    },
    /** Shows the evaluated splats with the SH bands the page now asks for. */
    setShDegree() {
      rebuildFieldSplat();
    },
  };
}

/** @param {import('three').Object3D} root */
function collectSplats(root) {
  /** @type {any[]} */
  const splats = [];
  root.traverse((o) => {
    if (/** @type {any} */ (o).isGaussianSplat) splats.push(o);
  });
  return splats;
}

/** @param {import('three').BufferGeometry} geometry */
function shDegreeOf(geometry) {
  let degree = 0;
  while (degree < 3 && geometry.getAttribute(`sphericalHarmonics${degree + 1}`)) degree++;
  return degree;
}

/**
 * The same splats with SH bands above `degree` left out (three's GaussianSplat evaluates
 * whatever bands its geometry carries).
 * @param {import('three').BufferGeometry} geometry
 * @param {number} degree
 */
function withShDegree(geometry, degree) {
  /** @type {Record<string, ArrayLike<number>>} */
  const bands = {};
  for (let d = 1; d <= Math.min(degree, shDegreeOf(geometry)); d++) bands[`sh${d}`] = geometry.getAttribute(`sphericalHarmonics${d}`).array;
  return createGaussianSplatGeometry(
    geometry.getAttribute('position').array,
    geometry.getAttribute('covariance').array,
    geometry.getAttribute('color').array,
    bands,
  );
}

/**
 * World-space bounds; splats count by their centres and extents (their draw geometry is a unit quad).
 * @param {import('three').Object3D} root
 */
function boundsOf(root) {
  const box = new Box3();
  const point = new Vector3();
  const reach = new Vector3();
  root.traverse((o) => {
    const object = /** @type {any} */ (o);
    if (object.isGaussianSplat) {
      const position = object.splatGeometry.getAttribute('position');
      const covariance = object.splatGeometry.getAttribute('covariance');
      const local = new Box3();
      for (let i = 0; i < position.count; i++) {
        // Two standard deviations per axis, as far as three draws a splat.
        const c = covariance.array;
        reach.set(Math.sqrt(Math.max(c[i * 6], 0)), Math.sqrt(Math.max(c[i * 6 + 3], 0)), Math.sqrt(Math.max(c[i * 6 + 5], 0))).multiplyScalar(2);
        point.fromBufferAttribute(position, i);
        local.expandByPoint(point.clone().sub(reach)).expandByPoint(point.add(reach));
      }
      box.union(local.applyMatrix4(object.matrixWorld));
    } else if (object.isMesh || object.isPoints) {
      box.expandByObject(object);
    }
  });
  return box;
}
