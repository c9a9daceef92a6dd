/**
 * Plain-TypeScript reference of the NeRF ray marcher (march_fwd / march_bwd / mlp_bwd) and
 * of the occupancy update, in f64: same rays, samples, occupancy skipping, early stop and
 * suffix-trick backward as the kernels. Normals are central differences of the density
 * (fdDensityGradient) of the samples of weight >= NORMAL_MIN_WEIGHT, differentiated like the
 * kernels do. With a deformation field (4D) each sample x of a camera at time t is
 * evaluated at x + d(x, t), and the backward also gives the deformation field's gradients.
 */
import type { Camera } from '../../math/camera.ts';
import type { FieldLayout } from '../../scene/nerf/layout.ts';
import type { MarchSettings } from '../../render/nerf/renderer.ts';
import { backpropSample, evalField, fdDensityGradient, NORMAL_MIN_WEIGHT, positionGradient, FD_POINTS, FD_SCALE, toUnit, truncExp, unitNormal, type Params } from './field.ts';
import type { HexPlaneConfig } from '../../scene/deform/hexplane-layout.ts';
import { hexPlaneBackwardRef, hexPlaneSplatRef } from '../deform/hexplane.ts';

export const MIN_TRANSMITTANCE = 1e-4;

export interface ReferenceField {
  layout: FieldLayout;
  hash: Params;
  mlp: Params;
  /** Occupancy flags (G^3) used when settings.useOccupancy. */
  occupancy?: { resolution: number; flags: ArrayLike<number> };
  /** 4D: a HexPlane field whose position offsets warp each sample to the canonical field. */
  deformation?: { config: HexPlaneConfig; planes: Params; mlp: Params };
}

export interface ReferenceImages {
  rgb: Float64Array;
  alpha: Float64Array;
  depth: Float64Array;
  normal: Float64Array;
}

interface RaySetup {
  o: number[];
  d: number[];
  zPerT: number;
  t0: number;
  t1: number;
}

export function cameraRay(layout: FieldLayout, cam: Camera, px: number, py: number, s: MarchSettings): RaySetup {
  const m = cam.viewmat;
  const dc = [(px + 0.5 - cam.cx) / cam.fx, (py + 0.5 - cam.cy) / cam.fy, 1];
  const len = Math.hypot(dc[0], dc[1], dc[2]);
  const d = [0, 1, 2].map((a) => (m[a] * dc[0] + m[4 + a] * dc[1] + m[8 + a] * dc[2]) / len);
  const o = [0, 1, 2].map((a) => -(m[a] * m[3] + m[4 + a] * m[7] + m[8 + a] * m[11]));
  let t0 = s.near;
  let t1 = s.far;
  for (let a = 0; a < 3; a++) {
    const da = Math.abs(d[a]) < 1e-12 ? 1e-12 : d[a];
    const ta = (layout.boxMin[a] - o[a]) / da;
    const tb = (layout.boxMax[a] - o[a]) / da;
    t0 = Math.max(t0, Math.min(ta, tb));
    t1 = Math.min(t1, Math.max(ta, tb));
  }
  return { o, d, zPerT: 1 / len, t0, t1 };
}

function occupiedAt(field: ReferenceField, s: MarchSettings, p: number[]): boolean {
  if (!s.useOccupancy || !field.occupancy) return true;
  const g = field.occupancy.resolution;
  const u = toUnit(field.layout, p);
  const c = u.map((x) => Math.min(g - 1, Math.max(0, Math.floor(x * g))));
  return field.occupancy.flags[c[0] + g * (c[1] + g * c[2])] !== 0;
}

/**
 * Calls `visit` for every evaluated sample of one ray in marching order with the world
 * position x and the position the field is evaluated at (x_c = x + d(x, time) in 4D, else
 * x); returns the final transmittance.
 */
function march(field: ReferenceField, s: MarchSettings, ray: RaySetup, time: number,
  visit: (x: number[], xc: number[], t: number, sample: ReturnType<typeof evalField>, T: number, e: number) => void): number {
  let T = 1;
  const def = field.deformation;
  for (let i = 0; i < s.maxSteps; i++) {
    const t = ray.t0 + (i + 0.5) * s.step;
    if (t >= ray.t1) break;
    const x = [0, 1, 2].map((a) => ray.o[a] + t * ray.d[a]);
    let p = x;
    if (def) {
      const off = hexPlaneSplatRef(def.config, def.planes, def.mlp, x, time).offsets;
      p = x.map((v, a) => v + off[a]);
    }
    if (!occupiedAt(field, s, p)) continue;
    const sample = evalField(field.layout, field.hash, field.mlp, p, ray.d);
    const e = Math.exp(-sample.sigma * s.step);
    visit(x, p, t, sample, T, e);
    T *= e;
    if (T < MIN_TRANSMITTANCE) break;
  }
  return T;
}

function forEachPixel(cameras: Camera[], fn: (cam: Camera, px: number, py: number, id: number) => void): void {
  let id = 0;
  for (const cam of cameras) for (let py = 0; py < cam.height; py++) for (let px = 0; px < cam.width; px++) fn(cam, px, py, id++);
}

/** How many samples got a normal and how many were too light (weight < NORMAL_MIN_WEIGHT). */
export interface NormalStats {
  normalSamples: number;
  skippedNormalSamples: number;
}

export function renderReference(field: ReferenceField, cameras: Camera[], s: MarchSettings, stats?: NormalStats): ReferenceImages {
  const n = cameras.length * cameras[0].width * cameras[0].height;
  const out: ReferenceImages = { rgb: new Float64Array(n * 3), alpha: new Float64Array(n), depth: new Float64Array(n), normal: new Float64Array(n * 3) };
  forEachPixel(cameras, (cam, px, py, id) => {
    const ray = cameraRay(field.layout, cam, px, py, s);
    const C = [0, 0, 0];
    const N = [0, 0, 0];
    let D = 0;
    const T = march(field, s, ray, cam.time ?? 0, (_x, p, t, sample, T, e) => {
      const w = T * (1 - e);
      const nrm = s.normals && w >= NORMAL_MIN_WEIGHT ? unitNormal(fdDensityGradient(field.layout, field.hash, field.mlp, p, s.normalEps)) : [0, 0, 0];
      if (stats && s.normals) stats[w >= NORMAL_MIN_WEIGHT ? 'normalSamples' : 'skippedNormalSamples']++;
      for (let c = 0; c < 3; c++) {
        C[c] += w * sample.colour[c];
        N[c] += w * nrm[c];
      }
      D += w * t * ray.zPerT;
    });
    for (let c = 0; c < 3; c++) {
      out.rgb[id * 3 + c] = C[c] + T * s.background[c];
      out.normal[id * 3 + c] = N[c];
    }
    out.alpha[id] = 1 - T;
    out.depth[id] = D;
  });
  return out;
}

export interface ReferenceCotangents {
  rgb?: ArrayLike<number>;
  alpha?: ArrayLike<number>;
  depth?: ArrayLike<number>;
  normal?: ArrayLike<number>;
}

export interface ReferenceGrads {
  hash: Float64Array;
  mlp: Float64Array;
  /** 4D: the deformation field's plane and MLP gradients. */
  deformPlanes?: Float64Array;
  deformMlp?: Float64Array;
}

/** Gradients of sum(cotangent * output) w.r.t. the hash table and the MLP (rgb, alpha, depth, normal), and the deformation field's in 4D. */
export function renderBackwardReference(field: ReferenceField, cameras: Camera[], s: MarchSettings, cot: ReferenceCotangents,
  images: ReferenceImages = renderReference(field, cameras, s)): ReferenceGrads {
  const gradHash = new Float64Array(field.layout.hashCount);
  const gradMlp = new Float64Array(field.layout.mlpCount);
  // 4D: per camera, the world positions of the evaluated samples and d(objective)/d(offset).
  const warped = cameras.map(() => ({ points: [] as number[], dOffsets: [] as number[] }));
  forEachPixel(cameras, (cam, px, py, id) => {
    const ray = cameraRay(field.layout, cam, px, py, s);
    const C = [0, 1, 2].map((c) => images.rgb[id * 3 + c]);
    const D = images.depth[id];
    const Tf = 1 - images.alpha[id];
    const gC = [0, 1, 2].map((c) => cot.rgb?.[id * 3 + c] ?? 0);
    const gD = cot.depth?.[id] ?? 0;
    const gA = cot.alpha?.[id] ?? 0;
    const N = [0, 1, 2].map((c) => images.normal[id * 3 + c]);
    const gN = [0, 1, 2].map((c) => cot.normal?.[id * 3 + c] ?? 0);
    const withNormal = gN.some((v) => v !== 0);
    const Cacc = [0, 0, 0];
    const Nacc = [0, 0, 0];
    let Dacc = 0;
    const view = cameras.indexOf(cam);
    march(field, s, ray, cam.time ?? 0, (x, p, t, sample, T, e) => {
      const w = T * (1 - e);
      const z = t * ray.zPerT;
      const Tn = T * e;
      let dSigma = gA * Tf;
      for (let c = 0; c < 3; c++) {
        Cacc[c] += w * sample.colour[c];
        dSigma += gC[c] * (Tn * sample.colour[c] - (C[c] - Cacc[c]));
      }
      Dacc += w * z;
      dSigma += gD * (Tn * z - (D - Dacc));
      // 4D: d(objective)/d(offset) of this sample = d/d(x_c), from every point the sample evaluated.
      const dXc = [0, 0, 0];
      if (withNormal && w >= NORMAL_MIN_WEIGHT) {
        const gr = fdDensityGradient(field.layout, field.hash, field.mlp, p, s.normalEps);
        const n = unitNormal(gr);
        for (let c = 0; c < 3; c++) {
          Nacc[c] += w * n[c];
          dSigma += gN[c] * (Tn * n[c] - (N[c] - Nacc[c]));
        }
        const len = Math.hypot(gr[0], gr[1], gr[2]);
        if (len >= 1e-20) {
          const dn = gN.map((v) => w * v);
          const ndn = n[0] * dn[0] + n[1] * dn[1] + n[2] * dn[2];
          const dg = [0, 1, 2].map((k) => -(dn[k] - n[k] * ndn) / len);
          for (const k of FD_POINTS) {
            const q = p.map((v, a) => v + s.normalEps * k[a]);
            const fs = evalField(field.layout, field.hash, field.mlp, q, ray.d);
            const dEnc = backpropSample(field.layout, field.mlp, q, fs, (dg[0] * k[0] + dg[1] * k[1] + dg[2] * k[2]) / (FD_SCALE * s.normalEps), [0, 0, 0], gradHash, gradMlp);
            positionGradient(field.layout, q, fs, dEnc).forEach((v, a) => (dXc[a] += v));
          }
        }
      } else if (withNormal) {
        // No normal for this light sample (n = 0): only its attenuation of what lies behind.
        for (let c = 0; c < 3; c++) dSigma += gN[c] * -(N[c] - Nacc[c]);
      }
      dSigma *= s.step;
      const dColPre = [0, 1, 2].map((c) => w * gC[c] * sample.colour[c] * (1 - sample.colour[c]));
      const dEnc = backpropSample(field.layout, field.mlp, p, sample, dSigma * truncExp(sample.sigmaPre), dColPre, gradHash, gradMlp);
      if (field.deformation) {
        // x_c = x + offset, so d/d(offset) = d/d(x_c).
        positionGradient(field.layout, p, sample, dEnc).forEach((v, a) => (dXc[a] += v));
        warped[view].points.push(...x);
        warped[view].dOffsets.push(...dXc, ...new Array(11).fill(0));
      }
    });
  });
  const out: ReferenceGrads = { hash: gradHash, mlp: gradMlp };
  const def = field.deformation;
  if (def) {
    out.deformPlanes = new Float64Array(def.planes.length);
    out.deformMlp = new Float64Array(def.mlp.length);
    cameras.forEach((cam, v) => {
      const g = hexPlaneBackwardRef(def.config, def.planes, def.mlp, warped[v].points, cam.time ?? 0, warped[v].dOffsets);
      g.planes.forEach((x, i) => (out.deformPlanes![i] += x));
      g.mlp.forEach((x, i) => (out.deformMlp![i] += x));
    });
  }
  return out;
}

/** Scalar objective sum(cot * outputs) for finite differences. */
export function objectiveReference(field: ReferenceField, cameras: Camera[], s: MarchSettings, cot: ReferenceCotangents): number {
  const img = renderReference(field, cameras, s);
  let L = 0;
  for (let i = 0; i < img.rgb.length; i++) L += (cot.rgb?.[i] ?? 0) * img.rgb[i];
  for (let i = 0; i < img.alpha.length; i++) L += (cot.alpha?.[i] ?? 0) * img.alpha[i] + (cot.depth?.[i] ?? 0) * img.depth[i];
  for (let i = 0; i < img.normal.length; i++) L += (cot.normal?.[i] ?? 0) * img.normal[i];
  return L;
}

function pcg(v: number): number {
  const s = (Math.imul(v >>> 0, 747796405) + 2891336453) >>> 0;
  const w = Math.imul(((s >>> ((s >>> 28) + 4)) ^ s) >>> 0, 277803737) >>> 0;
  return ((w >>> 22) ^ w) >>> 0;
}

/** Reference of occupancy_update: new running densities and flags. */
export function occupancyUpdateReference(field: ReferenceField, resolution: number, prev: ArrayLike<number>,
  opts: { seed: number; decay: number; threshold: number }): { density: Float64Array; flags: Uint32Array } {
  const g = resolution;
  const L = field.layout;
  const density = new Float64Array(g ** 3);
  const flags = new Uint32Array(g ** 3);
  const ext = [0, 1, 2].map((a) => (L.boxMax[a] - L.boxMin[a]) / g);
  const sigmaAt = (p: number[]) => evalField(L, field.hash, field.mlp, p, [0, 0, 1]).sigma;
  for (let i = 0; i < g ** 3; i++) {
    const c = [i % g, Math.floor(i / g) % g, Math.floor(i / (g * g))];
    const lo = [0, 1, 2].map((a) => L.boxMin[a] + c[a] * ext[a]);
    let m = 0;
    for (let k = 0; k < 8; k++) {
      const b = [k & 1, (k >> 1) & 1, (k >> 2) & 1];
      m = Math.max(m, sigmaAt(lo.map((x, a) => x + b[a] * ext[a])));
    }
    const h = pcg((i ^ pcg(opts.seed)) >>> 0);
    const j = [0, 1, 2].map((q) => (pcg((h + q) >>> 0) >>> 8) / 16777216);
    m = Math.max(m, sigmaAt(lo.map((x, a) => x + j[a] * ext[a])));
    const v = Math.max(prev[i] * opts.decay, m);
    density[i] = v;
    flags[i] = v > opts.threshold ? 1 : 0;
  }
  return { density, flags };
}
