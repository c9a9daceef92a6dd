// Small fields and cameras shared by the NeRF tests.
import { orbitCamera, type Camera } from '../../src/math/camera.ts';
import { expect } from 'vitest';
import { fieldLayout, type FieldLayout, type RadianceFieldConfig } from '../../src/scene/nerf/layout.ts';
import type { MarchSettings } from '../../src/render/nerf/renderer.ts';
import { cameraRay, MIN_TRANSMITTANCE } from '../../src/reference/nerf/render.ts';
import { Rng } from '../../src/train/rng.ts';

export function smallConfig(over: Partial<RadianceFieldConfig> = {}): RadianceFieldConfig {
  return {
    levels: 4,
    featuresPerLevel: 2,
    log2TableSize: 10,
    baseResolution: 4,
    finestResolution: 32,
    hiddenWidth: 16,
    viewDependent: true,
    bounds: { min: [-1, -1, -1], max: [1, 1, 1] },
    seed: 7,
    occupancyResolution: 16,
    featureInit: 0.5,
    ...over,
  };
}

export function views(count: number, size: number, radius = 3, elevation = 20): Camera[] {
  return Array.from({ length: count }, (_, i) =>
    orbitCamera({ elevation: elevation + 10 * (i % 2), azimuth: 30 + (360 * i) / count, radius, fovY: 50, width: size, height: size }),
  );
}

export function randomArray(n: number, seed: number, lo = -1, hi = 1): Float32Array {
  const r = new Rng(seed);
  return Float32Array.from({ length: n }, () => r.uniform(lo, hi));
}

/**
 * Raises the density contrast of initial MLP parameters (in place): the density weights x12
 * and its bias - 3, so rays cross near-opaque and near-empty parts and some samples are too
 * light for a normal (the renderer skips those; tests cover both kinds).
 */
export function contrastDensity(layout: FieldLayout, mlp: Float32Array | Float64Array): void {
  for (let j = 0; j < layout.hidden; j++) mlp[layout.offsets.wSigma + j] *= 12;
  mlp[layout.offsets.bSigma] -= 3;
}

/** A field that is a blob around three vertices of the dense coarse level and exp(-30) elsewhere. */
export function blobField() {
  const cfg = smallConfig({ levels: 2, baseResolution: 8, finestResolution: 16, log2TableSize: 12, hiddenWidth: 4, viewDependent: false, occupancyResolution: 8 });
  const layout = fieldLayout(cfg);
  expect(layout.denseMask & 1).toBe(1);
  const hash = new Float32Array(layout.hashCount);
  const s = layout.resolutions[0] + 1;
  for (const [x, y, z] of [[4, 4, 4], [4, 4, 5], [5, 4, 4]]) hash[(x + y * s + z * s * s) * layout.features] = 1;
  const mlp = new Float32Array(layout.mlpCount);
  const o = layout.offsets;
  mlp[o.w1] = 1; // hidden unit 0 reads feature 0 of level 0
  mlp[o.wSigma] = 40;
  mlp[o.bSigma] = -30;
  mlp.set([3, -2, 1], o.bColour);
  mlp[o.wColour] = -4;
  mlp[o.wColour + 2 * layout.colourInputs] = 2;
  return { cfg, hash, mlp };
}


/** An isotropic Gaussian density blob of one colour. */
export interface Blob {
  centre: number[];
  scale: number;
  density: number;
  colour: number[];
}

/** Analytic blobs (chosen per camera, e.g. by its time) marched with the renderer's rays and steps. */
export function renderBlobs(cfg: RadianceFieldConfig, cams: Camera[], s: MarchSettings, blobsFor: (cam: Camera) => Blob[]): Float32Array {
  const layout = fieldLayout(cfg);
  const out = new Float32Array(cams.length * cams[0].width * cams[0].height * 3);
  let id = 0;
  for (const cam of cams) {
    const blobs = blobsFor(cam);
    for (let py = 0; py < cam.height; py++)
      for (let px = 0; px < cam.width; px++, id++) {
        const ray = cameraRay(layout, cam, px, py, s);
        let T = 1;
        const C = [0, 0, 0];
        for (let i = 0; i < s.maxSteps; i++) {
          const t = ray.t0 + (i + 0.5) * s.step;
          if (t >= ray.t1 || T < MIN_TRANSMITTANCE) break;
          const p = [0, 1, 2].map((a) => ray.o[a] + t * ray.d[a]);
          let sigma = 0;
          const col = [0, 0, 0];
          for (const b of blobs) {
            const r2 = p.reduce((acc, v, a) => acc + (v - b.centre[a]) ** 2, 0);
            const sb = b.density * Math.exp(-r2 / (2 * b.scale ** 2));
            sigma += sb;
            for (let c = 0; c < 3; c++) col[c] += sb * b.colour[c];
          }
          if (sigma <= 0) continue;
          const w = T * (1 - Math.exp(-sigma * s.step));
          for (let c = 0; c < 3; c++) C[c] += (w * col[c]) / sigma;
          T *= Math.exp(-sigma * s.step);
        }
        for (let c = 0; c < 3; c++) out[id * 3 + c] = C[c] + T * s.background[c];
      }
  }
  return out;
}

export function psnr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let se = 0;
  for (let i = 0; i < a.length; i++) se += (a[i] - b[i]) ** 2;
  return 10 * Math.log10(1 / (se / a.length));
}
