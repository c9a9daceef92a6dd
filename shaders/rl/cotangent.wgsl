// Image-cotangent arithmetic for the update rules: weighted sums of reward and
// score-distillation gradients per view, and the final clip (threestudio's nan_to_num +
// clamp to +-grad_clip).
#include "lib/dispatch.wgsl"

// out[i] += a * view_weight[i / per_view] * x[i]
struct AxpyParams { n: u32, per_view: u32, a: f32, pad: u32 }
@group(0) @binding(0) var<uniform> ap: AxpyParams;
@group(0) @binding(1) var<storage, read> view_weight: array<f32>;
@group(0) @binding(2) var<storage, read> x: array<f32>;
@group(0) @binding(3) var<storage, read_write> out_axpy: array<f32>;

@compute @workgroup_size(64)
fn axpy_views(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
              @builtin(local_invocation_index) lid: u32) {
  let i = linear_invocation(wid, nwg, lid, 64u);
  if (i >= ap.n) { return; }
  out_axpy[i] = out_axpy[i] + ap.a * view_weight[i / ap.per_view] * x[i];
}

// out[i] = clamp(out[i], -limit, limit), and 0 where out[i] is NaN or infinite.
struct ClipParams { n: u32, limit: f32, pad0: u32, pad1: u32 }
@group(0) @binding(0) var<uniform> cp: ClipParams;
@group(0) @binding(1) var<storage, read_write> out_clip: array<f32>;

@compute @workgroup_size(64)
fn clip_finite(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
               @builtin(local_invocation_index) lid: u32) {
  let i = linear_invocation(wid, nwg, lid, 64u);
  if (i >= cp.n) { return; }
  let v = out_clip[i];
  // Exponent bits all set means NaN or infinity (WGSL may fold v != v away).
  let bad = (bitcast<u32>(v) & 0x7f800000u) == 0x7f800000u;
  out_clip[i] = select(clamp(v, -cp.limit, cp.limit), 0.0, bad);
}
