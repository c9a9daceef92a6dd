// Temporal smoothness of deformed means: weight / N * sum |m(t+dt) - 2 m(t) + m(t-dt)|^2.
// One invocation per float; adds the gradient into the three frames' cotangents.
#include "lib/dispatch.wgsl"
#include "deform/loss_reduce.wgsl"

struct SmoothParams {
  floats: u32,
  scale: f32,  // weight / N
  _pad0: u32,
  _pad1: u32,
}

@group(0) @binding(0) var<uniform> U: SmoothParams;
@group(0) @binding(1) var<storage, read> prev: array<f32>;
@group(0) @binding(2) var<storage, read> cur: array<f32>;
@group(0) @binding(3) var<storage, read> next: array<f32>;
@group(0) @binding(4) var<storage, read_write> d_prev: array<f32>;
@group(0) @binding(5) var<storage, read_write> d_cur: array<f32>;
@group(0) @binding(6) var<storage, read_write> d_next: array<f32>;
@group(0) @binding(7) var<storage, read_write> loss: array<atomic<u32>>;

@compute @workgroup_size(64)
fn temporal_smoothness(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                       @builtin(local_invocation_index) lid: u32) {
  let e = linear_invocation(wid, nwg, lid, 64u);
  var l = 0.0;
  if (e < U.floats) {
    let a = next[e] - 2.0 * cur[e] + prev[e];
    l = U.scale * a * a;
    let g = 2.0 * U.scale * a;
    d_prev[e] += g;
    d_cur[e] -= 2.0 * g;
    d_next[e] += g;
  }
  reduce_loss(lid, l, &loss[0]);
}
