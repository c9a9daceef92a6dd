/** Real spherical harmonics up to degree 3 (Inria's sign convention) and their gradients. */
import { SH_C0 } from '../../scene/gaussian-data.ts';
import { SH_C1, SH_C2, SH_C3 } from '../../render/splat/constants.ts';

/** Basis values B_k(dir) for k < (degree+1)^2; `dir` is a unit vector. */
export function shBasis(degree: number, x: number, y: number, z: number): number[] {
  const b = [SH_C0];
  if (degree < 1) return b;
  b.push(-SH_C1 * y, SH_C1 * z, -SH_C1 * x);
  if (degree < 2) return b;
  const xx = x * x, yy = y * y, zz = z * z;
  b.push(SH_C2[0] * x * y, SH_C2[1] * y * z, SH_C2[2] * (2 * zz - xx - yy), SH_C2[3] * x * z, SH_C2[4] * (xx - yy));
  if (degree < 3) return b;
  b.push(
    SH_C3[0] * y * (3 * xx - yy),
    SH_C3[1] * x * y * z,
    SH_C3[2] * y * (4 * zz - xx - yy),
    SH_C3[3] * z * (2 * zz - 3 * xx - 3 * yy),
    SH_C3[4] * x * (4 * zz - xx - yy),
    SH_C3[5] * z * (xx - yy),
    SH_C3[6] * x * (xx - 3 * yy),
  );
  return b;
}

/** d B_k / d (x, y, z), treating the components as independent. */
export function shBasisGrad(degree: number, x: number, y: number, z: number): [number, number, number][] {
  const g: [number, number, number][] = [[0, 0, 0]];
  if (degree < 1) return g;
  g.push([0, -SH_C1, 0], [0, 0, SH_C1], [-SH_C1, 0, 0]);
  if (degree < 2) return g;
  const xx = x * x, yy = y * y, zz = z * z;
  g.push(
    [SH_C2[0] * y, SH_C2[0] * x, 0],
    [0, SH_C2[1] * z, SH_C2[1] * y],
    [-2 * SH_C2[2] * x, -2 * SH_C2[2] * y, 4 * SH_C2[2] * z],
    [SH_C2[3] * z, 0, SH_C2[3] * x],
    [2 * SH_C2[4] * x, -2 * SH_C2[4] * y, 0],
  );
  if (degree < 3) return g;
  g.push(
    [SH_C3[0] * 6 * x * y, SH_C3[0] * (3 * xx - 3 * yy), 0],
    [SH_C3[1] * y * z, SH_C3[1] * x * z, SH_C3[1] * x * y],
    [SH_C3[2] * -2 * x * y, SH_C3[2] * (4 * zz - xx - 3 * yy), SH_C3[2] * 8 * y * z],
    [SH_C3[3] * -6 * x * z, SH_C3[3] * -6 * y * z, SH_C3[3] * (6 * zz - 3 * xx - 3 * yy)],
    [SH_C3[4] * (4 * zz - 3 * xx - yy), SH_C3[4] * -2 * x * y, SH_C3[4] * 8 * x * z],
    [SH_C3[5] * 2 * x * z, SH_C3[5] * -2 * y * z, SH_C3[5] * (xx - yy)],
    [SH_C3[6] * (3 * xx - 3 * yy), SH_C3[6] * -6 * x * y, 0],
  );
  return g;
}
