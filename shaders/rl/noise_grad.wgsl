// Accumulates a parameter-space policy gradient into a grad buffer:
//   grad[i] += sum_g coefs[g] * noise(seeds[g], offset + i)
//            + c_old * (param[i] - old[i]) + c_ref * (param[i] - ref[i])
#include "lib/dispatch.wgsl"
#include "rl/noise.wgsl"

struct GradParams { n: u32, offset: u32, count: u32, c_old: f32, c_ref: f32, pad0: u32, pad1: u32, pad2: u32 }
@group(0) @binding(0) var<uniform> gp: GradParams;
@group(0) @binding(1) var<storage, read> seeds: array<u32>;
@group(0) @binding(2) var<storage, read> coefs: array<f32>;
@group(0) @binding(3) var<storage, read> param: array<f32>;
@group(0) @binding(4) var<storage, read> old_param: array<f32>;
@group(0) @binding(5) var<storage, read> ref_param: array<f32>;
@group(0) @binding(6) var<storage, read_write> grad: array<f32>;

@compute @workgroup_size(64)
fn noise_grad(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
              @builtin(local_invocation_index) lid: u32) {
  let i = linear_invocation(wid, nwg, lid, 64u);
  if (i >= gp.n) { return; }
  var acc = 0.0;
  for (var g = 0u; g < gp.count; g = g + 1u) {
    acc = acc + coefs[g] * gaussian_noise(seeds[g], gp.offset + i);
  }
  let p = param[i];
  acc = acc + gp.c_old * (p - old_param[i]) + gp.c_ref * (p - ref_param[i]);
  grad[i] = grad[i] + acc;
}

// ref[i] += rate * (param[i] - ref[i]): the moving reference of grpo/dpo.
struct LerpParams { n: u32, rate: f32, pad0: u32, pad1: u32 }
@group(0) @binding(0) var<uniform> lp: LerpParams;
@group(0) @binding(1) var<storage, read> lerp_src: array<f32>;
@group(0) @binding(2) var<storage, read_write> lerp_dst: array<f32>;

@compute @workgroup_size(64)
fn lerp_towards(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                @builtin(local_invocation_index) lid: u32) {
  let i = linear_invocation(wid, nwg, lid, 64u);
  if (i >= lp.n) { return; }
  lerp_dst[i] = lerp_dst[i] + lp.rate * (lerp_src[i] - lerp_dst[i]);
}
