// Backward of apply_offset: the cotangent of a deformed parameter is the cotangent of its
// offset channels (written into d_offsets, which the caller clears first) and, with
// CANONICAL, is added to the canonical parameter's gradient (the identity path).
#include "lib/dispatch.wgsl"

struct ApplyParams {
  count: u32,
  stride: u32,
  at: u32,
  channels: u32,
  first: u32, // splat the bound range starts at: the per-splat arrays are bound from there
}

@group(0) @binding(0) var<uniform> A: ApplyParams;
@group(0) @binding(1) var<storage, read> d_dst: array<f32>;
@group(0) @binding(2) var<storage, read_write> d_offsets: array<f32>;
#if CANONICAL
@group(0) @binding(3) var<storage, read_write> g_src: array<f32>;
#endif

@compute @workgroup_size(64)
fn apply_offset_bwd(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                    @builtin(local_invocation_index) lid: u32) {
  let i = linear_invocation(wid, nwg, lid, 64u);
  if (i >= A.count) { return; }
  for (var e = 0u; e < A.stride; e++) {
    let d = d_dst[i * A.stride + e];
    if (e < A.channels) { d_offsets[(A.first + i) * 14u + A.at + e] = d; }
#if CANONICAL
    g_src[i * A.stride + e] += d;
#endif
  }
}
