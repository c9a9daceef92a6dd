import { describe, expect, it } from 'vitest';
import { marchingCubes, type ScalarGrid, type TriangleMesh } from '../../src/io/marching-cubes.ts';
import { seededRandom } from './synthetic.ts';

function sampleGrid(n: number, lo: number, hi: number, f: (x: number, y: number, z: number) => number): ScalarGrid {
  const h = (hi - lo) / (n - 1);
  const values = new Float32Array(n * n * n);
  for (let z = 0; z < n; z++)
    for (let y = 0; y < n; y++) for (let x = 0; x < n; x++) values[x + n * (y + n * z)] = f(lo + x * h, lo + y * h, lo + z * h);
  return { values, dims: [n, n, n], origin: [lo, lo, lo], spacing: [h, h, h] };
}

/** Every undirected edge is used by exactly two triangles, once in each direction. */
function expectClosedOriented(mesh: TriangleMesh): void {
  const directed = new Map<string, number>();
  const idx = mesh.indices;
  for (let t = 0; t < idx.length; t += 3)
    for (let k = 0; k < 3; k++) {
      const key = `${idx[t + k]}>${idx[t + ((k + 1) % 3)]}`;
      directed.set(key, (directed.get(key) ?? 0) + 1);
    }
  for (const [key, n] of directed) {
    expect(n, `edge ${key} used ${n} times in one direction`).toBe(1);
    const [a, b] = key.split('>');
    expect(directed.get(`${b}>${a}`), `edge ${key} has no twin`).toBe(1);
  }
}

function signedVolume(mesh: TriangleMesh): number {
  const p = mesh.positions;
  let v = 0;
  for (let t = 0; t < mesh.indices.length; t += 3) {
    const [a, b, c] = [mesh.indices[t] * 3, mesh.indices[t + 1] * 3, mesh.indices[t + 2] * 3];
    v += p[a] * (p[b + 1] * p[c + 2] - p[b + 2] * p[c + 1]) - p[a + 1] * (p[b] * p[c + 2] - p[b + 2] * p[c]) + p[a + 2] * (p[b] * p[c + 1] - p[b + 1] * p[c]);
  }
  return v / 6;
}

describe('marching cubes', () => {
  it('extracts a closed, outward-facing sphere of the right size', () => {
    const r = 0.7;
    const mesh = marchingCubes(sampleGrid(33, -1, 1, (x, y, z) => r - Math.hypot(x, y, z)), 0);
    expect(mesh.indices.length).toBeGreaterThan(300);
    for (let v = 0; v < mesh.positions.length; v += 3) {
      const d = Math.hypot(mesh.positions[v], mesh.positions[v + 1], mesh.positions[v + 2]);
      expect(Math.abs(d - r)).toBeLessThan(0.01);
      // Normals point out of the inside region (away from the centre).
      const dot = (mesh.normals[v] * mesh.positions[v] + mesh.normals[v + 1] * mesh.positions[v + 1] + mesh.normals[v + 2] * mesh.positions[v + 2]) / d;
      expect(dot).toBeGreaterThan(0.99);
    }
    expectClosedOriented(mesh);
    expect(signedVolume(mesh) / ((4 / 3) * Math.PI * r ** 3)).toBeCloseTo(1, 1);
  });

  it('stays closed and consistently wound on noisy fields with every ambiguous case', () => {
    const rand = seededRandom(99);
    const n = 14;
    // Random values inside, a margin of "outside" so that every surface closes.
    const grid = sampleGrid(n, 0, 1, () => 0);
    for (let z = 1; z < n - 1; z++) for (let y = 1; y < n - 1; y++) for (let x = 1; x < n - 1; x++) grid.values[x + n * (y + n * z)] = rand();
    const mesh = marchingCubes(grid, 0.5);
    expect(mesh.indices.length).toBeGreaterThan(1000);
    expectClosedOriented(mesh);
    expect(signedVolume(mesh)).toBeGreaterThan(0);
  });

  it('returns nothing for a field that never crosses the level', () => {
    const mesh = marchingCubes(sampleGrid(5, 0, 1, () => 0.2), 0.5);
    expect(mesh.indices.length).toBe(0);
    expect(mesh.positions.length).toBe(0);
  });
});
