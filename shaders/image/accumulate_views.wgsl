// out[i] += coef[view(i)] * g[i]: adds one reward's image cotangent into the ensemble's,
// weighted per view (component weight x normalisation scale x aggregation weight).
#include "lib/dispatch.wgsl"

struct Params { per_view: u32, total: u32 }
@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> coef: array<f32>;
@group(0) @binding(2) var<storage, read> g: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(256)
fn accumulate_views(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                    @builtin(local_invocation_index) lid: u32) {
  let i = linear_invocation(wid, nwg, lid, 256u);
  if (i >= params.total) { return; }
  out[i] = out[i] + coef[i / params.per_view] * g[i];
}
