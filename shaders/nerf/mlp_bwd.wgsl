// Parameter gradients from the sample records of march_bwd, 32 samples per workgroup.
// Each invocation back-propagates its sample through the colour and density heads and the
// hidden layer, and scatters the encoding's gradient into the hash table (CAS float adds).
// The MLP weight gradients are sums over samples of outer products: the workgroup stages
// its samples' activations and deltas in workgroup memory, sums each weight over the 32
// samples, and adds once per weight per workgroup.
#include "lib/dispatch.wgsl"
#include "nerf/atomic_add.wgsl"
#include "nerf/field.wgsl"

@group(0) @binding(0) var<uniform> field: FieldParams;
@group(0) @binding(1) var<storage, read> hash_table: array<f32>;
@group(0) @binding(2) var<storage, read> mlp: array<f32>;
@group(0) @binding(3) var<storage, read> records: array<f32>;
@group(0) @binding(4) var<storage, read> counter: array<u32>;
@group(0) @binding(5) var<storage, read_write> grad_hash: array<atomic<u32>>;
@group(0) @binding(6) var<storage, read_write> grad_mlp: array<atomic<u32>>;

const WG: u32 = 32u;
const RECORD: u32 = 10u;
const COLOUR_IN_MAX: u32 = 73u; // MAX_HIDDEN + 9 SH values

var<workgroup> s_x: array<f32, 2048>;      // [WG][MAX_ENC] encodings
var<workgroup> s_dz: array<f32, 2048>;     // [WG][MAX_HIDDEN] hidden pre-activation deltas
var<workgroup> s_h: array<f32, 2336>;      // [WG][COLOUR_IN_MAX] colour-head inputs
var<workgroup> s_d: array<f32, 128>;       // [WG][4] density and colour pre-activation deltas

fn scatter_encoding_grad(p: vec3<f32>, dx: ptr<function, array<f32, MAX_ENC>>) {
  let u = to_unit(p);
  let F = field.features;
  for (var l = 0u; l < field.levels; l++) {
    let cell = level_cell(l, u);
    for (var k = 0u; k < 8u; k++) {
      let b = corner_offset(k);
      let w3 = corner_weight(b, cell.fr);
      let w = w3.x * w3.y * w3.z;
      let base = (l * field.table_size + grid_index(l, cell.c0 + b)) * F;
      for (var f = 0u; f < F; f++) {
        nerf_atomic_add(&grad_hash[base + f], w * (*dx)[l * F + f]);
      }
    }
  }
}

@compute @workgroup_size(32)
fn mlp_bwd(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
           @builtin(local_invocation_index) lid: u32) {
  let i = linear_invocation(wid, nwg, lid, WG);
  let n = counter[0];
  let E = field.enc_dim;
  let H = field.hidden;
  let CI = field.colour_in;
  let xo = lid * MAX_ENC;
  let zo = lid * MAX_HIDDEN;
  let ho = lid * COLOUR_IN_MAX;
  if (i < n) {
    let o = i * RECORD;
    let p = vec3<f32>(records[o], records[o + 1u], records[o + 2u]);
    let d_sigma = records[o + 3u];
    let d_col = vec3<f32>(records[o + 7u], records[o + 8u], records[o + 9u]);
    sh_direction(vec3<f32>(records[o + 4u], records[o + 5u], records[o + 6u]));
    encode(p, false);
    hidden_forward();
    var dx: array<f32, MAX_ENC>;
    for (var k = 0u; k < E; k++) { dx[k] = 0.0; s_x[xo + k] = enc[k]; }
    for (var j = 0u; j < H; j++) {
      var dh = mlp[field.off_ws + j] * d_sigma;
      for (var r = 0u; r < 3u; r++) { dh += mlp[field.off_wc + r * CI + j] * d_col[r]; }
      let dz = select(0.0, dh, pre[j] > 0.0);
      s_dz[zo + j] = dz;
      s_h[ho + j] = hid[j];
      if (dz != 0.0) {
        for (var k = 0u; k < E; k++) { dx[k] += mlp[j * E + k] * dz; }
      }
    }
    for (var q = 0u; q < field.sh_count; q++) { s_h[ho + H + q] = sh[q]; }
    s_d[lid * 4u] = d_sigma;
    s_d[lid * 4u + 1u] = d_col.x;
    s_d[lid * 4u + 2u] = d_col.y;
    s_d[lid * 4u + 3u] = d_col.z;
    scatter_encoding_grad(p, &dx);
  } else {
    for (var k = 0u; k < E; k++) { s_x[xo + k] = 0.0; }
    for (var j = 0u; j < H; j++) { s_dz[zo + j] = 0.0; }
    for (var c = 0u; c < CI; c++) { s_h[ho + c] = 0.0; }
    for (var c = 0u; c < 4u; c++) { s_d[lid * 4u + c] = 0.0; }
  }
  workgroupBarrier();
  for (var q = lid; q < field.mlp_count; q += WG) {
    var sum = 0.0;
    if (q < field.off_b1) {
      let j = q / E;
      let k = q % E;
      for (var t = 0u; t < WG; t++) { sum += s_dz[t * MAX_HIDDEN + j] * s_x[t * MAX_ENC + k]; }
    } else if (q < field.off_ws) {
      let j = q - field.off_b1;
      for (var t = 0u; t < WG; t++) { sum += s_dz[t * MAX_HIDDEN + j]; }
    } else if (q < field.off_bs) {
      let j = q - field.off_ws;
      for (var t = 0u; t < WG; t++) { sum += s_d[t * 4u] * s_h[t * COLOUR_IN_MAX + j]; }
    } else if (q == field.off_bs) {
      for (var t = 0u; t < WG; t++) { sum += s_d[t * 4u]; }
    } else if (q < field.off_bc) {
      let r = (q - field.off_wc) / CI;
      let c = (q - field.off_wc) % CI;
      for (var t = 0u; t < WG; t++) { sum += s_d[t * 4u + 1u + r] * s_h[t * COLOUR_IN_MAX + c]; }
    } else {
      let r = q - field.off_bc;
      for (var t = 0u; t < WG; t++) { sum += s_d[t * 4u + 1u + r]; }
    }
    nerf_atomic_add(&grad_mlp[q], sum);
  }
}
