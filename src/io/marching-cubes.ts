/**
 * Marching cubes over any scalar field sampled on a regular grid (splat opacity, a NeRF
 * density, a signed distance negated). "Inside" is where the value exceeds the iso level;
 * normals point out of it (along the negative gradient).
 *
 * The case table is derived at load time rather than typed in: for each of the 256 corner
 * sign patterns, every cube face contributes iso-line segments between its crossed edges
 * (a face with two diagonal inside corners cuts each inside corner off, the same choice on
 * both cubes sharing the face, so the surface has no cracks), and the segments are chained
 * into closed loops that are triangulated as fans. Segments are directed by which side the
 * inside corner lies on, so the winding comes from the table, not from noisy gradients.
 */

export interface ScalarGrid {
  /** values[x + nx * (y + ny * z)] */
  values: Float32Array;
  dims: [number, number, number];
  origin: [number, number, number];
  spacing: [number, number, number];
}

export interface TriangleMesh {
  positions: Float32Array; // [V][3]
  normals: Float32Array; // [V][3], unit length
  indices: Uint32Array; // [T][3], counter-clockwise seen from outside
}

const cornerOffset = (corner: number): [number, number, number] => [corner & 1, (corner >> 1) & 1, (corner >> 2) & 1];

/** The 12 cube edges as [lower corner, axis]; the upper corner is lower + (1 << axis). */
const EDGES: [number, number][] = [];
for (let corner = 0; corner < 8; corner++)
  for (let axis = 0; axis < 3; axis++) if (!(corner & (1 << axis))) EDGES.push([corner, axis]);

function edgeBetween(a: number, b: number): number {
  const lower = Math.min(a, b);
  const axis = Math.log2(a ^ b);
  return EDGES.findIndex(([c, ax]) => c === lower && ax === axis);
}

/** The 6 faces, each as its 4 corners in cyclic order and its outward normal. */
const FACES: { corners: number[]; outward: number[] }[] = [];
for (let axis = 0; axis < 3; axis++) {
  const [u, v] = [0, 1, 2].filter((a) => a !== axis);
  for (const side of [0, 1]) {
    const base = side << axis;
    const outward = [0, 0, 0];
    outward[axis] = side ? 1 : -1;
    FACES.push({ corners: [base, base | (1 << u), base | (1 << u) | (1 << v), base | (1 << v)], outward });
  }
}

/** For each sign pattern, the closed loops of crossed edges that form its surface pieces. */
const CASES: number[][][] = Array.from({ length: 256 }, (_, pattern) => loopsFor(pattern));

function edgeMidpoint(edge: number): number[] {
  const [corner, axis] = EDGES[edge];
  const p = cornerOffset(corner) as number[];
  p[axis] += 0.5;
  return p;
}

/**
 * Directs every face segment so that, seen from outside the cube, the inside corner lies on
 * a fixed side; chained, the loops then wind counter-clockwise seen from outside the surface.
 */
function loopsFor(pattern: number): number[][] {
  const inside = (corner: number) => (pattern >> corner) & 1;
  const next = new Map<number, number>();
  const addSegment = (a: number, b: number, insideCorner: number, outward: number[]) => {
    const pa = edgeMidpoint(a);
    const pb = edgeMidpoint(b);
    const pc = cornerOffset(insideCorner);
    const ab = [pb[0] - pa[0], pb[1] - pa[1], pb[2] - pa[2]];
    const ac = [pc[0] - pa[0], pc[1] - pa[1], pc[2] - pa[2]];
    const cross = [ab[1] * ac[2] - ab[2] * ac[1], ab[2] * ac[0] - ab[0] * ac[2], ab[0] * ac[1] - ab[1] * ac[0]];
    const side = cross[0] * outward[0] + cross[1] * outward[1] + cross[2] * outward[2];
    if (side < 0) next.set(a, b);
    else next.set(b, a);
  };
  for (const { corners: face, outward } of FACES) {
    const edges = face.map((c, k) => edgeBetween(c, face[(k + 1) % 4]));
    const crossedAt = [0, 1, 2, 3].filter((k) => inside(face[k]) !== inside(face[(k + 1) % 4]));
    if (crossedAt.length === 2) {
      addSegment(edges[crossedAt[0]], edges[crossedAt[1]], face.find(inside)!, outward);
    } else if (crossedAt.length === 4) {
      for (let k = 0; k < 4; k++) if (inside(face[k])) addSegment(edges[(k + 3) % 4], edges[k], face[k], outward);
    }
  }
  const loops: number[][] = [];
  const visited = new Set<number>();
  for (const start of next.keys()) {
    if (visited.has(start)) continue;
    const loop: number[] = [];
    for (let edge = start; !visited.has(edge); edge = next.get(edge)!) {
      visited.add(edge);
      loop.push(edge);
    }
    loops.push(loop);
  }
  return loops;
}

export function marchingCubes(grid: ScalarGrid, isoLevel: number): TriangleMesh {
  const { values, dims, origin, spacing } = grid;
  const [nx, ny, nz] = dims;
  if (values.length !== nx * ny * nz) throw new Error(`grid has ${values.length} values for dims ${dims.join('x')}`);
  const at = (x: number, y: number, z: number) => values[x + nx * (y + ny * z)];
  const gradient = (x: number, y: number, z: number, axis: number): number => {
    const p = [x, y, z];
    const n = dims[axis];
    const lo = [...p];
    const hi = [...p];
    lo[axis] = Math.max(p[axis] - 1, 0);
    hi[axis] = Math.min(p[axis] + 1, n - 1);
    const span = (hi[axis] - lo[axis]) * spacing[axis];
    return span > 0 ? (at(hi[0], hi[1], hi[2]) - at(lo[0], lo[1], lo[2])) / span : 0;
  };
  const positions: number[] = [];
  const normals: number[] = [];
  const indices: number[] = [];
  const vertexOfEdge = new Map<number, number>();

  const vertex = (x: number, y: number, z: number, edge: number): number => {
    const [corner, axis] = EDGES[edge];
    const [ox, oy, oz] = cornerOffset(corner);
    const p0 = [x + ox, y + oy, z + oz];
    const key = (p0[0] + nx * (p0[1] + ny * p0[2])) * 3 + axis;
    const known = vertexOfEdge.get(key);
    if (known !== undefined) return known;
    const p1 = [...p0];
    p1[axis] += 1;
    const v0 = at(p0[0], p0[1], p0[2]);
    const v1 = at(p1[0], p1[1], p1[2]);
    const t = v1 === v0 ? 0.5 : (isoLevel - v0) / (v1 - v0);
    const n = [0, 0, 0];
    for (let c = 0; c < 3; c++) {
      positions.push(origin[c] + (p0[c] + (p1[c] - p0[c]) * t) * spacing[c]);
      n[c] = -((1 - t) * gradient(p0[0], p0[1], p0[2], c) + t * gradient(p1[0], p1[1], p1[2], c));
    }
    const len = Math.hypot(n[0], n[1], n[2]);
    // A flat field has no gradient; any unit vector keeps the normal valid for glTF.
    if (len > 0) normals.push(n[0] / len, n[1] / len, n[2] / len);
    else normals.push(0, 1, 0);
    const index = positions.length / 3 - 1;
    vertexOfEdge.set(key, index);
    return index;
  };

  const cornerDelta = Array.from({ length: 8 }, (_, corner) => {
    const [ox, oy, oz] = cornerOffset(corner);
    return ox + nx * (oy + ny * oz);
  });
  for (let z = 0; z < nz - 1; z++)
    for (let y = 0; y < ny - 1; y++)
      for (let x = 0; x < nx - 1; x++) {
        const base = x + nx * (y + ny * z);
        let pattern = 0;
        for (let corner = 0; corner < 8; corner++) if (values[base + cornerDelta[corner]] > isoLevel) pattern |= 1 << corner;
        if (pattern === 0 || pattern === 255) continue;
        for (const loop of CASES[pattern]) emitLoop(loop.map((edge) => vertex(x, y, z, edge)));
      }

  /** Fan-triangulates a loop (already wound counter-clockwise seen from outside). */
  function emitLoop(loop: number[]): void {
    for (let k = 1; k + 1 < loop.length; k++) indices.push(loop[0], loop[k], loop[k + 1]);
  }

  return { positions: new Float32Array(positions), normals: new Float32Array(normals), indices: new Uint32Array(indices) };
}
