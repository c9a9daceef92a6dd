// Tile binning, brush's way: sort visible (view, splat) pairs by depth, emit one
// intersection per touched tile in that order, then a stable sort on the (view, tile) key
// keeps depth order within each tile. Entry points:
//   bin_prepare_fwd  depth keys (invisible last), identity ids, visibility flags (radius > 0)
//   bin_gather_fwd   tile counts in depth order (input of the prefix sum)
//   bin_emit_fwd     intersection keys (view * tiles + tile) and (view, splat) ids, for the
//                    tiles the ellipse reaches; unused slots get the key views * tiles
//   tile_ranges_fwd  [start, end) of each (view, tile) in the sorted intersections
// (bin_emit.wgsl, tile_ranges.wgsl)
#include "lib/dispatch.wgsl"
#include "splat/common.wgsl"

@group(0) @binding(0) var<uniform> frame: Frame;

@group(0) @binding(1) var<storage, read> prep_projected: array<vec4<u32>>;
@group(0) @binding(2) var<storage, read> prep_radii: array<u32>;
@group(0) @binding(3) var<storage, read_write> prep_depth_keys: array<u32>;
@group(0) @binding(4) var<storage, read_write> prep_ids: array<u32>;
@group(0) @binding(5) var<storage, read_write> prep_visible: array<u32>;

@compute @workgroup_size(256)
fn bin_prepare_fwd(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                   @builtin(local_invocation_index) lid: u32) {
  let idx = linear_invocation(wid, nwg, lid, 256u);
  if (idx >= frame.num_views * frame.num_splats) { return; }
  let visible = prep_radii[idx] > 0u;
  // Camera z is at least `near` > 0 here, and positive floats order like their bits.
  prep_depth_keys[idx] = select(0xffffffffu, prep_projected[idx * PROJ_STRIDE].w, visible);
  prep_ids[idx] = idx;
  prep_visible[idx] = select(0u, 1u, visible);
}
