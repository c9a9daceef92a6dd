/**
 * A mesh from splats: the splats' opacity field sampled on a grid the user sizes, marching
 * cubes at an opacity level, and vertex colours blended from the splats that cover each
 * vertex (weighted by their contribution there).
 */
import { InputError } from '../errors.ts';
import { shCoeffCount, type GaussianData } from '../scene/gaussian-data.ts';
import { dcToColor, sigmoid } from './activation.ts';
import { marchingCubes, type ScalarGrid, type TriangleMesh } from './marching-cubes.ts';

export interface ColoredMesh extends TriangleMesh {
  /** Display (sRGB) colours per vertex, [V][3] in [0, 1]. */
  colors: Float32Array;
}

export interface SplatMeshOptions {
  /** Grid cells along the longest side of the splats' bounds. */
  resolution?: number;
  /** Opacity level of the surface, in (0, 1). */
  isoLevel?: number;
}

export const MESH_RESOLUTION_LIMITS = { min: 8, max: 512 } as const;
const SIGMA_CUTOFF = 3;
const MIN_OPACITY = 1 / 255;

export interface OpacityField {
  grid: ScalarGrid;
  /** Contribution-weighted colour sums and weights per grid point, for vertex colours. */
  colorSums: Float32Array;
  weights: Float32Array;
}

/**
 * The opacity of the union of splats, 1 - prod(1 - alpha_i G_i(x)), at each grid point.
 * Each Gaussian is widened by half a cell so that flat splats thinner than a cell still
 * register on the grid.
 */
export function opacityField(data: GaussianData, resolution: number): OpacityField {
  if (!(Number.isInteger(resolution) && resolution >= MESH_RESOLUTION_LIMITS.min && resolution <= MESH_RESOLUTION_LIMITS.max))
    throw new InputError(
      `mesh resolution ${resolution} is out of range; use an integer from ${MESH_RESOLUTION_LIMITS.min} to ${MESH_RESOLUTION_LIMITS.max}.`,
    );
  const n = data.count;
  const K = shCoeffCount(data.shDegree);
  const lo = [Infinity, Infinity, Infinity];
  const hi = [-Infinity, -Infinity, -Infinity];
  const visible: number[] = [];
  for (let i = 0; i < n; i++) {
    if (sigmoid(data.opacityLogits[i]) < MIN_OPACITY) continue;
    visible.push(i);
    const reach = SIGMA_CUTOFF * Math.exp(Math.max(data.logScales[i * 3], data.logScales[i * 3 + 1], data.logScales[i * 3 + 2]));
    for (let c = 0; c < 3; c++) {
      lo[c] = Math.min(lo[c], data.means[i * 3 + c] - reach);
      hi[c] = Math.max(hi[c], data.means[i * 3 + c] + reach);
    }
  }
  if (visible.length === 0) throw new InputError('no splat is visible (every opacity is below 1/255); there is no surface to mesh.');
  const h = Math.max(hi[0] - lo[0], hi[1] - lo[1], hi[2] - lo[2]) / resolution;
  // One empty cell of margin on each side so that the surface closes.
  const origin = lo.map((v) => v - h) as [number, number, number];
  const dims = [0, 1, 2].map((c) => Math.ceil((hi[c] - lo[c]) / h) + 3) as [number, number, number];
  const [nx, ny, nz] = dims;
  const logTransmittance = new Float64Array(nx * ny * nz);
  const colorSums = new Float32Array(nx * ny * nz * 3);
  const weights = new Float32Array(nx * ny * nz);
  const extra = (h / 2) ** 2;
  for (const i of visible) {
    const alpha = sigmoid(data.opacityLogits[i]);
    const cov = covariance(data, i, extra);
    const inv = invertSymmetric(cov);
    const rgb = [0, 1, 2].map((c) => dcToColor(data.sh[i * K * 3 + c]));
    const m = [data.means[i * 3], data.means[i * 3 + 1], data.means[i * 3 + 2]];
    const range = [0, 1, 2].map((c) => {
      const reach = SIGMA_CUTOFF * Math.sqrt(cov[c * 3 + c]);
      return [Math.max(0, Math.ceil((m[c] - reach - origin[c]) / h)), Math.min(dims[c] - 1, Math.floor((m[c] + reach - origin[c]) / h))];
    });
    for (let z = range[2][0]; z <= range[2][1]; z++) {
      const dz = origin[2] + z * h - m[2];
      for (let y = range[1][0]; y <= range[1][1]; y++) {
        const dy = origin[1] + y * h - m[1];
        for (let x = range[0][0]; x <= range[0][1]; x++) {
          const dx = origin[0] + x * h - m[0];
          const q = inv[0] * dx * dx + inv[4] * dy * dy + inv[8] * dz * dz + 2 * (inv[1] * dx * dy + inv[2] * dx * dz + inv[5] * dy * dz);
          if (q > SIGMA_CUTOFF * SIGMA_CUTOFF) continue;
          const a = Math.min(alpha * Math.exp(-0.5 * q), 0.999);
          const p = x + nx * (y + ny * z);
          logTransmittance[p] += Math.log1p(-a);
          weights[p] += a;
          for (let c = 0; c < 3; c++) colorSums[p * 3 + c] += a * rgb[c];
        }
      }
    }
  }
  const values = new Float32Array(nx * ny * nz);
  for (let p = 0; p < values.length; p++) values[p] = 1 - Math.exp(logTransmittance[p]);
  return { grid: { values, dims, origin, spacing: [h, h, h] }, colorSums, weights };
}

/** Row-major 3x3 covariance R diag(s^2) R^T + extra * I of splat i. */
function covariance(data: GaussianData, i: number, extra: number): number[] {
  const [w0, x0, y0, z0] = data.quats.subarray(i * 4, i * 4 + 4);
  const len = Math.hypot(w0, x0, y0, z0) || 1;
  const [w, x, y, z] = [w0 / len, x0 / len, y0 / len, z0 / len];
  const R = [
    1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y),
    2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x),
    2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y),
  ];
  const s2 = [0, 1, 2].map((c) => Math.exp(2 * data.logScales[i * 3 + c]));
  const out = new Array<number>(9).fill(0);
  for (let a = 0; a < 3; a++)
    for (let b = 0; b < 3; b++) {
      let v = a === b ? extra : 0;
      for (let k = 0; k < 3; k++) v += R[a * 3 + k] * R[b * 3 + k] * s2[k];
      out[a * 3 + b] = v;
    }
  return out;
}

function invertSymmetric(m: number[]): number[] {
  const [a, b, c, , e, f, , , i] = m;
  const A = e * i - f * f;
  const B = c * f - b * i;
  const C = b * f - c * e;
  const det = a * A + b * B + c * C;
  const E = a * i - c * c;
  const F = b * c - a * f;
  const I = a * e - b * b;
  return [A / det, B / det, C / det, B / det, E / det, F / det, C / det, F / det, I / det];
}

/** Trilinear interpolation of the weighted colour at a point. */
function colorAt(field: OpacityField, p: number[], out: Float32Array, at: number): void {
  const { dims, origin, spacing } = field.grid;
  const g = [0, 1, 2].map((c) => Math.min(Math.max((p[c] - origin[c]) / spacing[c], 0), dims[c] - 1.000001));
  const base = g.map(Math.floor);
  const t = g.map((v, c) => v - base[c]);
  const sum = [0, 0, 0];
  let weight = 0;
  for (let corner = 0; corner < 8; corner++) {
    const o = [corner & 1, (corner >> 1) & 1, (corner >> 2) & 1];
    const f = o.reduce((acc, oc, c) => acc * (oc ? t[c] : 1 - t[c]), 1);
    const idx = base[0] + o[0] + dims[0] * (base[1] + o[1] + dims[1] * (base[2] + o[2]));
    weight += f * field.weights[idx];
    for (let c = 0; c < 3; c++) sum[c] += f * field.colorSums[idx * 3 + c];
  }
  for (let c = 0; c < 3; c++) out[at + c] = weight > 0 ? Math.min(Math.max(sum[c] / weight, 0), 1) : 0.5;
}

export function splatsToMesh(data: GaussianData, options: SplatMeshOptions = {}): ColoredMesh {
  const resolution = options.resolution ?? 64;
  const isoLevel = options.isoLevel ?? 0.5;
  if (!(isoLevel > 0 && isoLevel < 1)) throw new InputError(`mesh iso level ${isoLevel} must lie strictly between 0 and 1.`);
  const field = opacityField(data, resolution);
  const mesh = marchingCubes(field.grid, isoLevel);
  const colors = new Float32Array(mesh.positions.length);
  for (let v = 0; v < mesh.positions.length; v += 3) colorAt(field, [mesh.positions[v], mesh.positions[v + 1], mesh.positions[v + 2]], colors, v);
  return { ...mesh, colors };
}
