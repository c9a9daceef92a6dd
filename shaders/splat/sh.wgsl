// Real spherical harmonics up to degree 3 (Inria's sign convention), their gradients with
// respect to the direction components, and the constants of rasterizers.md §1.3.
const SH_C0: f32 = 0.28209479177387814;
const SH_C1: f32 = 0.4886025119029199;
const SH_C2 = array<f32, 5>(1.0925484305920792, -1.0925484305920792, 0.31539156525252005, -1.0925484305920792, 0.5462742152960396);
const SH_C3 = array<f32, 7>(-0.5900435899266435, 2.890611442640554, -0.4570457994644658, 0.3731763325901154, -0.4570457994644658, 1.445305721320277, -0.5900435899266435);

fn sh_basis(degree: u32, d: vec3<f32>) -> array<f32, 16> {
  var b: array<f32, 16>;
  b[0] = SH_C0;
  if (degree < 1u) { return b; }
  let x = d.x; let y = d.y; let z = d.z;
  b[1] = -SH_C1 * y; b[2] = SH_C1 * z; b[3] = -SH_C1 * x;
  if (degree < 2u) { return b; }
  let xx = x * x; let yy = y * y; let zz = z * z;
  b[4] = SH_C2[0] * x * y;
  b[5] = SH_C2[1] * y * z;
  b[6] = SH_C2[2] * (2.0 * zz - xx - yy);
  b[7] = SH_C2[3] * x * z;
  b[8] = SH_C2[4] * (xx - yy);
  if (degree < 3u) { return b; }
  b[9] = SH_C3[0] * y * (3.0 * xx - yy);
  b[10] = SH_C3[1] * x * y * z;
  b[11] = SH_C3[2] * y * (4.0 * zz - xx - yy);
  b[12] = SH_C3[3] * z * (2.0 * zz - 3.0 * xx - 3.0 * yy);
  b[13] = SH_C3[4] * x * (4.0 * zz - xx - yy);
  b[14] = SH_C3[5] * z * (xx - yy);
  b[15] = SH_C3[6] * x * (xx - 3.0 * yy);
  return b;
}

fn sh_basis_grad(degree: u32, d: vec3<f32>) -> array<vec3<f32>, 16> {
  var g: array<vec3<f32>, 16>;
  if (degree < 1u) { return g; }
  let x = d.x; let y = d.y; let z = d.z;
  g[1] = vec3<f32>(0.0, -SH_C1, 0.0);
  g[2] = vec3<f32>(0.0, 0.0, SH_C1);
  g[3] = vec3<f32>(-SH_C1, 0.0, 0.0);
  if (degree < 2u) { return g; }
  let xx = x * x; let yy = y * y; let zz = z * z;
  g[4] = SH_C2[0] * vec3<f32>(y, x, 0.0);
  g[5] = SH_C2[1] * vec3<f32>(0.0, z, y);
  g[6] = SH_C2[2] * vec3<f32>(-2.0 * x, -2.0 * y, 4.0 * z);
  g[7] = SH_C2[3] * vec3<f32>(z, 0.0, x);
  g[8] = SH_C2[4] * vec3<f32>(2.0 * x, -2.0 * y, 0.0);
  if (degree < 3u) { return g; }
  g[9] = SH_C3[0] * vec3<f32>(6.0 * x * y, 3.0 * xx - 3.0 * yy, 0.0);
  g[10] = SH_C3[1] * vec3<f32>(y * z, x * z, x * y);
  g[11] = SH_C3[2] * vec3<f32>(-2.0 * x * y, 4.0 * zz - xx - 3.0 * yy, 8.0 * y * z);
  g[12] = SH_C3[3] * vec3<f32>(-6.0 * x * z, -6.0 * y * z, 6.0 * zz - 3.0 * xx - 3.0 * yy);
  g[13] = SH_C3[4] * vec3<f32>(4.0 * zz - 3.0 * xx - yy, -2.0 * x * y, 8.0 * x * z);
  g[14] = SH_C3[5] * vec3<f32>(2.0 * x * z, -2.0 * y * z, xx - yy);
  g[15] = SH_C3[6] * vec3<f32>(3.0 * xx - 3.0 * yy, -6.0 * x * y, 0.0);
  return g;
}
