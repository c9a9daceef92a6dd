// tile_ranges_fwd: start and end of each (view, tile) run in the sorted intersection keys.
// `ranges` is cleared beforehand, so tiles without intersections read [0, 0). Padding keys
// (views * tiles, see bin_emit.wgsl) sort last and are skipped.
#include "lib/dispatch.wgsl"
#include "splat/common.wgsl"

@group(0) @binding(0) var<uniform> frame: Frame;
@group(0) @binding(1) var<storage, read> isect_keys: array<u32>;
@group(0) @binding(2) var<storage, read_write> ranges: array<vec2<u32>>;

@compute @workgroup_size(256)
fn tile_ranges_fwd(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                   @builtin(local_invocation_index) lid: u32) {
  let k = linear_invocation(wid, nwg, lid, 256u);
  let m = frame.num_isects;
  if (k >= m) { return; }
  let key = isect_keys[k];
  if (key >= frame.num_views * frame.tiles_x * frame.tiles_y) { return; }
  if (k == 0u || isect_keys[k - 1u] != key) { ranges[key].x = k; }
  if (k + 1u == m || isect_keys[k + 1u] != key) { ranges[key].y = k + 1u; }
}
