// The radiance field evaluated at one point: multi-resolution hash-grid encoding with
// trilinear interpolation (dense indexing where a level fits the table), one ReLU hidden
// layer, a density head (trunc-exp) and a colour head (sigmoid) that optionally sees
// degree-2 SH of the view direction. Loop bounds come from the uniform: pipeline constants
// would let the compiler unroll everything, but lavapipe then compiles for minutes for no
// measurable speed-up. The including file declares:
//   var<uniform> field: FieldParams; var<storage> hash_table: array<f32>; var<storage> mlp: array<f32>;
// Per-invocation scratch lives in private arrays so that functions stay small.

#include "nerf/field_params.wgsl"

const MAX_ENC: u32 = 64u;
const MAX_HIDDEN: u32 = 64u;
const DENSITY_CLAMP: f32 = 15.0;

var<private> enc: array<f32, MAX_ENC>;
var<private> pre: array<f32, MAX_HIDDEN>;
var<private> hid: array<f32, MAX_HIDDEN>;
var<private> sh: array<f32, 9>;

fn level_res(l: u32) -> u32 { return field.res[l / 4u][l % 4u]; }

fn grid_index(l: u32, c: vec3<u32>) -> u32 {
  let r = level_res(l);
  if (((field.dense_mask >> l) & 1u) == 1u) {
    let s = r + 1u;
    return c.x + c.y * s + c.z * s * s;
  }
  return (c.x ^ (c.y * 2654435761u) ^ (c.z * 805459861u)) & (field.table_size - 1u);
}

// Cell origin and fractional position of p in level l (the last cell takes u = 1).
struct Cell { c0: vec3<u32>, fr: vec3<f32>, r: f32 }
fn level_cell(l: u32, u: vec3<f32>) -> Cell {
  let r = f32(level_res(l));
  let g = u * r;
  let c0f = min(floor(g), vec3<f32>(r - 1.0));
  return Cell(vec3<u32>(c0f), g - c0f, r);
}

fn corner_offset(k: u32) -> vec3<u32> { return vec3<u32>(k & 1u, (k >> 1u) & 1u, (k >> 2u) & 1u); }

fn corner_weight(b: vec3<u32>, fr: vec3<f32>) -> vec3<f32> {
  return select(vec3<f32>(1.0) - fr, fr, b == vec3<u32>(1u));
}

fn encode(p: vec3<f32>) {
  let u = to_unit(p);
  let F = field.features;
  for (var l = 0u; l < field.levels; l++) {
    let cell = level_cell(l, u);
    for (var f = 0u; f < F; f++) { enc[l * F + f] = 0.0; }
    for (var k = 0u; k < 8u; k++) {
      let b = corner_offset(k);
      let w3 = corner_weight(b, cell.fr);
      let w = w3.x * w3.y * w3.z;
      let base = (l * field.table_size + grid_index(l, cell.c0 + b)) * F;
      for (var f = 0u; f < F; f++) { enc[l * F + f] += w * hash_table[base + f]; }
    }
  }
}

fn hidden_forward() {
  let E = field.enc_dim;
  for (var j = 0u; j < field.hidden; j++) {
    var z = mlp[field.off_b1 + j];
    for (var k = 0u; k < E; k++) { z += mlp[j * E + k] * enc[k]; }
    pre[j] = z;
    hid[j] = max(z, 0.0);
  }
}

fn density_pre() -> f32 {
  var s = mlp[field.off_bs];
  for (var j = 0u; j < field.hidden; j++) { s += mlp[field.off_ws + j] * hid[j]; }
  return s;
}

fn trunc_exp(x: f32) -> f32 { return exp(min(x, DENSITY_CLAMP)); }

fn sh_direction(d: vec3<f32>) {
  let x = d.x; let y = d.y; let z = d.z;
  sh[0] = 0.28209479177387814;
  sh[1] = -0.4886025119029199 * y;
  sh[2] = 0.4886025119029199 * z;
  sh[3] = -0.4886025119029199 * x;
  sh[4] = 1.0925484305920792 * x * y;
  sh[5] = -1.0925484305920792 * y * z;
  sh[6] = 0.31539156525252005 * (2.0 * z * z - x * x - y * y);
  sh[7] = -1.0925484305920792 * x * z;
  sh[8] = 0.5462742152960396 * (x * x - y * y);
}

// Colour pre-activations (before the sigmoid); needs hidden_forward and sh_direction.
fn colour_pre() -> vec3<f32> {
  var c = vec3<f32>(mlp[field.off_bc], mlp[field.off_bc + 1u], mlp[field.off_bc + 2u]);
  let H = field.hidden;
  let CI = field.colour_in;
  for (var r = 0u; r < 3u; r++) {
    let row = field.off_wc + r * CI;
    var s = 0.0;
    for (var j = 0u; j < H; j++) { s += mlp[row + j] * hid[j]; }
    for (var q = 0u; q < field.sh_count; q++) { s += mlp[row + H + q] * sh[q]; }
    c[r] += s;
  }
  return c;
}

fn sigmoid3(x: vec3<f32>) -> vec3<f32> { return vec3<f32>(1.0) / (vec3<f32>(1.0) + exp(-x)); }

// d(objective)/d(encoding), filled by backward passes (mlp_bwd).
var<private> enc_u: array<f32, MAX_ENC>;

// sum_k enc_u[k] * d enc[k] / d p: walks the hash corners again with the trilinear weights'
// spatial derivatives. Walking twice keeps no per-feature vec3 scratch, which lavapipe would
// spill. Where p lies outside the box the encoding is clamped; callers that need the exact
// derivative there mask it with inside_box.
fn encoding_position_vjp(p: vec3<f32>) -> vec3<f32> {
  let u = to_unit(p);
  let inv_ext = vec3<f32>(1.0) / (field.box_max - field.box_min);
  var g = vec3<f32>(0.0);
  for (var l = 0u; l < field.levels; l++) {
    let cell = level_cell(l, u);
    var gl = vec3<f32>(0.0);
    for (var k = 0u; k < 8u; k++) {
      let b = corner_offset(k);
      let w3 = corner_weight(b, cell.fr);
      let s = select(vec3<f32>(-1.0), vec3<f32>(1.0), b == vec3<u32>(1u));
      let dw = vec3<f32>(s.x * w3.y * w3.z, w3.x * s.y * w3.z, w3.x * w3.y * s.z);
      let base = (l * field.table_size + grid_index(l, cell.c0 + b)) * field.features;
      var a = 0.0;
      for (var f = 0u; f < field.features; f++) { a += enc_u[l * field.features + f] * hash_table[base + f]; }
      gl += dw * a;
    }
    g += gl * cell.r;
  }
  return g * inv_ext;
}

// exp(-sigma * dt) for one step. Below 1e-4 the first-order form is used: GPU exp is only
// accurate to about an ulp, which near 1 would dim every ray a little per empty sample.
fn step_transmittance(sigma_dt: f32) -> f32 {
  return select(exp(-sigma_dt), 1.0 - sigma_dt, sigma_dt < 1e-4);
}
