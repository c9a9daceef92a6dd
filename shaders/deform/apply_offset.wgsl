// deformed = canonical + offset for one parameter (means, quats, log-scales, opacity or SH):
// the first `channels` entries of each splat's `stride` floats get offsets[i][at + e]; the rest
// are copied (e.g. SH beyond the DC colour). One invocation per splat.
#include "lib/dispatch.wgsl"

struct ApplyParams {
  count: u32,
  stride: u32,
  at: u32,
  channels: u32,
  first: u32, // splat the bound range starts at: the per-splat arrays are bound from there
}

@group(0) @binding(0) var<uniform> A: ApplyParams;
@group(0) @binding(1) var<storage, read> src: array<f32>;
@group(0) @binding(2) var<storage, read> offsets: array<f32>;
@group(0) @binding(3) var<storage, read_write> dst: array<f32>;

@compute @workgroup_size(64)
fn apply_offset_fwd(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                    @builtin(local_invocation_index) lid: u32) {
  let i = linear_invocation(wid, nwg, lid, 64u);
  if (i >= A.count) { return; }
  for (var e = 0u; e < A.stride; e++) {
    var v = src[i * A.stride + e];
    if (e < A.channels) { v += offsets[(A.first + i) * 14u + A.at + e]; }
    dst[i * A.stride + e] = v;
  }
}
