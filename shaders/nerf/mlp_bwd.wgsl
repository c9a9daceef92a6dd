// Parameter gradients from the sample records of march_bwd, 32 samples per workgroup.
// Each invocation back-propagates its sample through the colour and density heads and the
// hidden layer, and scatters the encoding's gradient into the hash table (CAS float adds).
// The MLP weight gradients are sums over samples of outer products: the workgroup stages
// its samples' activations and deltas in workgroup memory, then each invocation sums the
// weights of one hidden unit (or SH input) over the 32 samples and adds each once.
// With WARP (4D) the record's position is the canonical x_c = x + d(x, t), and the sample's
// gradient w.r.t. x_c (through the encoding's spatial derivative) is added to the position
// channels of its slot's offset cotangent, which the HexPlane backward takes from there.
#include "lib/dispatch.wgsl"
#include "lib/atomic_float.wgsl"
#include "nerf/field.wgsl"

@group(0) @binding(0) var<uniform> field: FieldParams;
@group(0) @binding(1) var<storage, read> hash_table: array<f32>;
@group(0) @binding(2) var<storage, read> mlp: array<f32>;
@group(0) @binding(3) var<storage, read> records: array<f32>;
@group(0) @binding(4) var<storage, read> counter: array<u32>;
@group(0) @binding(5) var<storage, read_write> grad_hash: array<atomic<u32>>;
@group(0) @binding(6) var<storage, read_write> grad_mlp: array<atomic<u32>>;
#if WARP
@group(0) @binding(7) var<storage, read_write> d_offsets: array<atomic<u32>>;
const OFFSET_STRIDE: u32 = 14u;
#endif

const WG: u32 = 32u;
const RECORD: u32 = 11u;
const COLOUR_IN_MAX: u32 = 73u; // MAX_HIDDEN + 9 SH values

var<workgroup> s_x: array<f32, 2048>;      // [WG][MAX_ENC] encodings
var<workgroup> s_dz: array<f32, 2048>;     // [WG][MAX_HIDDEN] hidden pre-activation deltas
var<workgroup> s_h: array<f32, 2336>;      // [WG][COLOUR_IN_MAX] colour-head inputs
var<workgroup> s_d: array<f32, 128>;       // [WG][4] density and colour pre-activation deltas

// Adds w_corner * d_enc into the hash gradient for every level and corner of p
// (d_enc is in enc_u, a private array: a function-local array passed by pointer is spilled).
fn scatter_encoding_grad(p: vec3<f32>) {
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
        atomic_add_f32(&grad_hash[base + f], w * enc_u[l * F + f]);
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
    encode(p);
    hidden_forward();
    for (var k = 0u; k < E; k++) { enc_u[k] = 0.0; s_x[xo + k] = enc[k]; }
    for (var j = 0u; j < H; j++) {
      var dh = mlp[field.off_ws + j] * d_sigma;
      for (var r = 0u; r < 3u; r++) { dh += mlp[field.off_wc + r * CI + j] * d_col[r]; }
      let dz = select(0.0, dh, pre[j] > 0.0);
      s_dz[zo + j] = dz;
      s_h[ho + j] = hid[j];
      for (var k = 0u; k < E; k++) { enc_u[k] += mlp[j * E + k] * dz; }
    }
    for (var q = 0u; q < field.sh_count; q++) { s_h[ho + H + q] = sh[q]; }
    s_d[lid * 4u] = d_sigma;
    s_d[lid * 4u + 1u] = d_col.x;
    s_d[lid * 4u + 2u] = d_col.y;
    s_d[lid * 4u + 3u] = d_col.z;
    scatter_encoding_grad(p);
#if WARP
    // Zero along axes where x_c left the box: the encoding is clamped there.
    let g_xc = encoding_position_vjp(p) * inside_box(p);
    let slot = bitcast<u32>(records[o + 10u]) * OFFSET_STRIDE;
    for (var a = 0u; a < 3u; a++) { atomic_add_f32(&d_offsets[slot + a], g_xc[a]); }
#endif
  } else {
    for (var k = 0u; k < E; k++) { s_x[xo + k] = 0.0; }
    for (var j = 0u; j < H; j++) { s_dz[zo + j] = 0.0; }
    for (var c = 0u; c < CI; c++) { s_h[ho + c] = 0.0; }
    for (var c = 0u; c < 4u; c++) { s_d[lid * 4u + c] = 0.0; }
  }
  workgroupBarrier();
  // Column c of the colour head (c < H: also row c of W1, b1[c] and w_sigma[c]) per invocation.
  for (var c = lid; c < CI; c += WG) {
    var col_acc = vec3<f32>(0.0);
    var ws_acc = 0.0;
    var b1_acc = 0.0;
    for (var k = 0u; k < E; k++) { enc_u[k] = 0.0; }
    for (var t = 0u; t < WG; t++) {
      let h = s_h[t * COLOUR_IN_MAX + c];
      let ds = s_d[t * 4u];
      col_acc += vec3<f32>(s_d[t * 4u + 1u], s_d[t * 4u + 2u], s_d[t * 4u + 3u]) * h;
      ws_acc += ds * h;
      if (c < H) {
        let dz = s_dz[t * MAX_HIDDEN + c];
        b1_acc += dz;
        for (var k = 0u; k < E; k++) { enc_u[k] += dz * s_x[t * MAX_ENC + k]; }
      }
    }
    for (var r = 0u; r < 3u; r++) { atomic_add_f32(&grad_mlp[field.off_wc + r * CI + c], col_acc[r]); }
    if (c < H) {
      atomic_add_f32(&grad_mlp[field.off_ws + c], ws_acc);
      atomic_add_f32(&grad_mlp[field.off_b1 + c], b1_acc);
      for (var k = 0u; k < E; k++) { atomic_add_f32(&grad_mlp[c * E + k], enc_u[k]); }
    }
  }
  // The four output biases.
  if (lid < 4u) {
    var b = 0.0;
    for (var t = 0u; t < WG; t++) { b += s_d[t * 4u + lid]; }
    atomic_add_f32(&grad_mlp[select(field.off_bc + lid - 1u, field.off_bs, lid == 0u)], b);
  }
}
