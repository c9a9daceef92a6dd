/**
 * Loads one result into a three.js object: GLB through GLTFLoader with three's
 * KHR_gaussian_splatting extension (splats and meshes alike), PLY and .splat through three's
 * splat loaders. Returns a handle the page uses to limit the SH degree; results that vary
 * in time may also carry `setTime` and `timeRange` (see app.js).
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
 * @property {((time: number) => void) | undefined} setTime present on results that vary in time
 * @property {[number, number] | undefined} timeRange
 */

/**
 * @param {string} url
 * @param {string} format 'glb' | 'ply' | 'splat'
 * @returns {Promise<LoadedResult>}
 */
export async function loadResult(url, format) {
  const root = new Group();
  if (format === 'glb') {
    const loader = new GLTFLoader();
    loader.register((parser) => new GLTFGaussianSplatLoaderExtension(parser));
    const gltf = await loader.loadAsync(url);
    root.add(gltf.scene);
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
  return {
    root,
    splatCount: splats.reduce((n, s) => n + s.splatGeometry.getAttribute('position').count, 0),
    maxShDegree: Math.max(0, ...splats.map((s) => shDegreeOf(s.splatGeometry))),
    hasSplats: splats.length > 0,
    bounds: boundsOf(root),
    setShDegree(degree) {
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
