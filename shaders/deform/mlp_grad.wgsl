// Gradients of the HexPlane MLP weights, which every splat shares. Each invocation owns one
// weight and sums its gradient over a chunk of CHUNK splats before a single CAS add, so a
// weight takes N / CHUNK atomic adds instead of N. Workgroups are laid out chunk-major.
#include "lib/dispatch.wgsl"
#include "lib/atomic_float.wgsl"
#include "deform/hexplane_common.wgsl"

const CHUNK: u32 = 256u;

@group(0) @binding(0) var<uniform> H: HexParams;
@group(0) @binding(1) var<storage, read> feats: array<f32>;
@group(0) @binding(2) var<storage, read> pre: array<f32>;
@group(0) @binding(3) var<storage, read> d_pre: array<f32>;
@group(0) @binding(4) var<storage, read> d_offsets: array<f32>;
@group(0) @binding(5) var<storage, read_write> mlp_grad: array<atomic<u32>>;

@compute @workgroup_size(64)
fn mlp_grad_reduce(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                   @builtin(local_invocation_index) lid: u32) {
  let wg = linear_workgroup(wid, nwg);
  let per_chunk = (H.mlp_floats + 63u) / 64u;
  let chunk = wg / per_chunk;
  let w = (wg % per_chunk) * 64u + lid;
  if (w >= H.mlp_floats) { return; }
  let first = chunk * CHUNK;
  if (first >= H.count) { return; }
  let last = min(first + CHUNK, H.count);
  let D = H.levels * H.features;
  let Hd = H.hidden;
  var acc = 0.0;
  if (w < H.mlp_off.y) {
    let j = w / D;
    let k = w % D;
    for (var n = first; n < last; n++) { acc += d_pre[n * Hd + j] * feats[n * D + k]; }
  } else if (w < H.mlp_off.z) {
    let j = w - H.mlp_off.y;
    for (var n = first; n < last; n++) { acc += d_pre[n * Hd + j]; }
  } else if (w < H.mlp_off.w) {
    let o = (w - H.mlp_off.z) / Hd;
    let j = (w - H.mlp_off.z) % Hd;
    if (hp_head_enabled(o)) {
      for (var n = first; n < last; n++) { acc += d_offsets[n * OUTPUTS + o] * max(pre[n * Hd + j], 0.0); }
    }
  } else {
    let o = w - H.mlp_off.w;
    if (hp_head_enabled(o)) {
      for (var n = first; n < last; n++) { acc += d_offsets[n * OUTPUTS + o]; }
    }
  }
  atomic_add_f32(&mlp_grad[w], acc);
}
