// bin_gather_fwd: tile counts of the depth-sorted visible (view, splat) ids, for the prefix sum.
#include "lib/dispatch.wgsl"
#include "splat/common.wgsl"

@group(0) @binding(0) var<uniform> frame: Frame;
@group(0) @binding(1) var<storage, read> sorted_ids: array<u32>;
@group(0) @binding(2) var<storage, read> tile_counts: array<u32>;
@group(0) @binding(3) var<storage, read_write> sorted_counts: array<u32>;

@compute @workgroup_size(256)
fn bin_gather_fwd(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                  @builtin(local_invocation_index) lid: u32) {
  let j = linear_invocation(wid, nwg, lid, 256u);
  if (j >= frame.num_visible) { return; }
  sorted_counts[j] = tile_counts[sorted_ids[j]];
}
