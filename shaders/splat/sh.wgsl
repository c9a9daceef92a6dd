// Real spherical harmonics up to degree 3 (Inria's sign convention), the colour they give
// and its vector-Jacobian product, with the constants of rasterizers.md §1.3.
const SH_C0: f32 = 0.28209479177387814;
const SH_C1: f32 = 0.4886025119029199;
const SH_C2 = array<f32, 5>(1.0925484305920792, -1.0925484305920792, 0.31539156525252005, -1.0925484305920792, 0.5462742152960396);
const SH_C3 = array<f32, 7>(-0.5900435899266435, 2.890611442640554, -0.4570457994644658, 0.3731763325901154, -0.4570457994644658, 1.445305721320277, -0.5900435899266435);

// 0.5 + SH(d): sh_basis times the coefficients, summed in the same order (so color_bwd's
// recomputation matches bit for bit), with constant indices only: a variable-indexed
// private array becomes a slow gather on lavapipe.
fn sh_rgb(c: array<vec3<f32>, 16>, degree: u32, d: vec3<f32>) -> vec3<f32> {
  var rgb = vec3<f32>(0.5);
  rgb += SH_C0 * c[0];
  if (degree < 1u) { return rgb; }
  let x = d.x; let y = d.y; let z = d.z;
  rgb += (-SH_C1 * y) * c[1];
  rgb += (SH_C1 * z) * c[2];
  rgb += (-SH_C1 * x) * c[3];
  if (degree < 2u) { return rgb; }
  let xx = x * x; let yy = y * y; let zz = z * z;
  rgb += (SH_C2[0] * x * y) * c[4];
  rgb += (SH_C2[1] * y * z) * c[5];
  rgb += (SH_C2[2] * (2.0 * zz - xx - yy)) * c[6];
  rgb += (SH_C2[3] * x * z) * c[7];
  rgb += (SH_C2[4] * (xx - yy)) * c[8];
  if (degree < 3u) { return rgb; }
  rgb += (SH_C3[0] * y * (3.0 * xx - yy)) * c[9];
  rgb += (SH_C3[1] * x * y * z) * c[10];
  rgb += (SH_C3[2] * y * (4.0 * zz - xx - yy)) * c[11];
  rgb += (SH_C3[3] * z * (2.0 * zz - 3.0 * xx - 3.0 * yy)) * c[12];
  rgb += (SH_C3[4] * x * (4.0 * zz - xx - yy)) * c[13];
  rgb += (SH_C3[5] * z * (xx - yy)) * c[14];
  rgb += (SH_C3[6] * x * (xx - 3.0 * yy)) * c[15];
  return rgb;
}

// The vector-Jacobian product of sh_rgb at cotangent v on the colour: adds b_k(d) v to each
// coefficient's gradient in vc and returns the direction's gradient, sum_k grad b_k(d) (c_k . v).
// Written out term by term, constant indices only, for the reason sh_rgb gives.
fn sh_rgb_vjp(c: array<vec3<f32>, 16>, degree: u32, d: vec3<f32>, v: vec3<f32>, vc: ptr<function, array<vec3<f32>, 16>>) -> vec3<f32> {
  (*vc)[0] += SH_C0 * v;
  var v_dir = vec3<f32>(0.0);
  if (degree < 1u) { return v_dir; }
  let x = d.x; let y = d.y; let z = d.z;
  (*vc)[1] += (-SH_C1 * y) * v;
  (*vc)[2] += (SH_C1 * z) * v;
  (*vc)[3] += (-SH_C1 * x) * v;
  v_dir += SH_C1 * vec3<f32>(-dot(c[3], v), -dot(c[1], v), dot(c[2], v));
  if (degree < 2u) { return v_dir; }
  let xx = x * x; let yy = y * y; let zz = z * z;
  (*vc)[4] += (SH_C2[0] * x * y) * v;
  (*vc)[5] += (SH_C2[1] * y * z) * v;
  (*vc)[6] += (SH_C2[2] * (2.0 * zz - xx - yy)) * v;
  (*vc)[7] += (SH_C2[3] * x * z) * v;
  (*vc)[8] += (SH_C2[4] * (xx - yy)) * v;
  v_dir += (SH_C2[0] * dot(c[4], v)) * vec3<f32>(y, x, 0.0);
  v_dir += (SH_C2[1] * dot(c[5], v)) * vec3<f32>(0.0, z, y);
  v_dir += (SH_C2[2] * dot(c[6], v)) * vec3<f32>(-2.0 * x, -2.0 * y, 4.0 * z);
  v_dir += (SH_C2[3] * dot(c[7], v)) * vec3<f32>(z, 0.0, x);
  v_dir += (SH_C2[4] * dot(c[8], v)) * vec3<f32>(2.0 * x, -2.0 * y, 0.0);
  if (degree < 3u) { return v_dir; }
  (*vc)[9] += (SH_C3[0] * y * (3.0 * xx - yy)) * v;
  (*vc)[10] += (SH_C3[1] * x * y * z) * v;
  (*vc)[11] += (SH_C3[2] * y * (4.0 * zz - xx - yy)) * v;
  (*vc)[12] += (SH_C3[3] * z * (2.0 * zz - 3.0 * xx - 3.0 * yy)) * v;
  (*vc)[13] += (SH_C3[4] * x * (4.0 * zz - xx - yy)) * v;
  (*vc)[14] += (SH_C3[5] * z * (xx - yy)) * v;
  (*vc)[15] += (SH_C3[6] * x * (xx - 3.0 * yy)) * v;
  v_dir += (SH_C3[0] * dot(c[9], v)) * vec3<f32>(6.0 * x * y, 3.0 * xx - 3.0 * yy, 0.0);
  v_dir += (SH_C3[1] * dot(c[10], v)) * vec3<f32>(y * z, x * z, x * y);
  v_dir += (SH_C3[2] * dot(c[11], v)) * vec3<f32>(-2.0 * x * y, 4.0 * zz - xx - 3.0 * yy, 8.0 * y * z);
  v_dir += (SH_C3[3] * dot(c[12], v)) * vec3<f32>(-6.0 * x * z, -6.0 * y * z, 6.0 * zz - 3.0 * xx - 3.0 * yy);
  v_dir += (SH_C3[4] * dot(c[13], v)) * vec3<f32>(4.0 * zz - 3.0 * xx - yy, -2.0 * x * y, 8.0 * x * z);
  v_dir += (SH_C3[5] * dot(c[14], v)) * vec3<f32>(2.0 * x * z, -2.0 * y * z, xx - yy);
  v_dir += (SH_C3[6] * dot(c[15], v)) * vec3<f32>(3.0 * xx - 3.0 * yy, -6.0 * x * y, 0.0);
  return v_dir;
}
