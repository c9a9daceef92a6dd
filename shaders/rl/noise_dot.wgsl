// Per-workgroup partial sums for the policy ratio and KL terms of grpo/dpo:
//   slot g < count:  sum_i noise(seeds[g], offset + i) * (param[i] - old[i])
//   slot count:      sum_i (param[i] - old[i])^2
//   slot count + 1:  sum_i (param[i] - ref[i])^2
// written to partials[workgroup * (count + 2) + slot]; the host adds the workgroups up.
#include "lib/dispatch.wgsl"
#include "rl/noise.wgsl"

struct DotParams { n: u32, offset: u32, count: u32, pad: u32 }
@group(0) @binding(0) var<uniform> dp: DotParams;
@group(0) @binding(1) var<storage, read> seeds: array<u32>;
@group(0) @binding(2) var<storage, read> param: array<f32>;
@group(0) @binding(3) var<storage, read> old_param: array<f32>;
@group(0) @binding(4) var<storage, read> ref_param: array<f32>;
@group(0) @binding(5) var<storage, read_write> partials: array<f32>;

var<workgroup> scratch: array<f32, 64>;

fn reduce_slot(lid: u32, value: f32, slot: u32, wg: u32) {
  scratch[lid] = value;
  workgroupBarrier();
  for (var stride = 32u; stride > 0u; stride = stride >> 1u) {
    if (lid < stride) { scratch[lid] = scratch[lid] + scratch[lid + stride]; }
    workgroupBarrier();
  }
  if (lid == 0u) { partials[wg * (dp.count + 2u) + slot] = scratch[0]; }
  workgroupBarrier();
}

@compute @workgroup_size(64)
fn noise_dot(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
             @builtin(local_invocation_index) lid: u32) {
  let wg = linear_workgroup(wid, nwg);
  let i = wg * 64u + lid;
  let inside = i < dp.n;
  var d = 0.0;
  var r = 0.0;
  if (inside) {
    d = param[i] - old_param[i];
    r = param[i] - ref_param[i];
  }
  for (var g = 0u; g < dp.count; g = g + 1u) {
    var v = 0.0;
    if (inside) { v = gaussian_noise(seeds[g], dp.offset + i) * d; }
    reduce_slot(lid, v, g, wg);
  }
  reduce_slot(lid, d * d, dp.count, wg);
  reduce_slot(lid, r * r, dp.count + 1u, wg);
}
