#if SUBGROUPS
enable subgroups;
#endif
// Tile binning, brush's way: sort the visible (view, splat) pairs by depth, emit one
// intersection per touched tile in that order, then a stable sort on the (view, tile) key
// keeps depth order within each tile. Entry points:
//   bin_prepare_fwd  visibility flags (radius > 0; input of the prefix sum that places the
//                    visible pairs), the range [min, max] of their depth keys and the total
//                    of the tile counts (the number of intersections)
//   bin_compact_fwd  the visible pairs' depth keys, less the smallest (so the sort needs only
//                    the bits of the range), and their (view, splat) ids, in index order
//   bin_gather_fwd   tile counts in depth order (input of the prefix sum)
//   bin_emit_fwd     intersection keys (view * tiles + tile) and (view, splat) ids, for the
//                    tiles the ellipse reaches; unused slots get the key views * tiles
//   tile_ranges_fwd  [start, end) of each (view, tile) in the sorted intersections
// (bin_gather.wgsl, bin_emit.wgsl, tile_ranges.wgsl)
#include "lib/dispatch.wgsl"
#include "splat/common.wgsl"

@group(0) @binding(0) var<uniform> frame: Frame;

// Camera z is at least `near` > 0 for a visible pair, and positive floats order like their bits.
fn depth_key(p: vec4<u32>) -> u32 {
  return p.w;
}

@group(0) @binding(1) var<storage, read> prep_projected: array<vec4<u32>>;
@group(0) @binding(2) var<storage, read> prep_radii: array<u32>;
@group(0) @binding(3) var<storage, read_write> prep_visible: array<u32>;
// [min, max] depth key of the visible pairs, [2] the host's, [3] the sum of the tile counts
// (known with the visible count, so the host reads both in one round trip); the host sets
// them to [0xffffffff, 0, 0, 0] first.
@group(0) @binding(4) var<storage, read_write> prep_range: array<atomic<u32>, 4>;
@group(0) @binding(5) var<storage, read> prep_counts: array<u32>;

#if !SUBGROUPS
var<workgroup> wg_min: atomic<u32>;
var<workgroup> wg_max: atomic<u32>;
var<workgroup> wg_sum: atomic<u32>;
#endif

@compute @workgroup_size(256)
fn bin_prepare_fwd(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
#if SUBGROUPS
                   @builtin(subgroup_invocation_id) lane: u32,
#endif
                   @builtin(local_invocation_index) lid: u32) {
  let idx = linear_invocation(wid, nwg, lid, 256u);
  let inside = idx < frame.num_views * frame.num_splats;
  var visible = false;
  var count = 0u;
  if (inside) {
    visible = prep_radii[idx] > 0u;
    prep_visible[idx] = select(0u, 1u, visible);
    count = prep_counts[idx]; // 0 where not visible
  }
  var key = 0u;
  if (visible) { key = depth_key(prep_projected[idx * PROJ_STRIDE]); }
#if SUBGROUPS
  // One global atomic per subgroup and no barrier: workgroup atomics run lane by lane and a
  // barrier makes the kernel a coroutine on SIMD-on-CPU adapters (lavapipe).
  let lo = subgroupMin(select(0xffffffffu, key, visible));
  let hi = subgroupMax(select(0u, key, visible));
  let sum = subgroupAdd(count);
  if (lane == 0u) {
    atomicMin(&prep_range[0], lo);
    atomicMax(&prep_range[1], hi);
    atomicAdd(&prep_range[3], sum);
  }
#else
  if (lid == 0u) {
    atomicStore(&wg_min, 0xffffffffu);
    atomicStore(&wg_max, 0u);
    atomicStore(&wg_sum, 0u);
  }
  workgroupBarrier();
  if (visible) {
    atomicMin(&wg_min, key);
    atomicMax(&wg_max, key);
    atomicAdd(&wg_sum, count);
  }
  workgroupBarrier();
  if (lid == 0u) {
    atomicMin(&prep_range[0], atomicLoad(&wg_min));
    atomicMax(&prep_range[1], atomicLoad(&wg_max));
    atomicAdd(&prep_range[3], atomicLoad(&wg_sum));
  }
#endif
}

@group(0) @binding(1) var<storage, read> comp_projected: array<vec4<u32>>;
@group(0) @binding(2) var<storage, read> comp_visible: array<u32>;
@group(0) @binding(3) var<storage, read> comp_offsets: array<u32>; // exclusive scan of visible
@group(0) @binding(4) var<storage, read> comp_range: array<u32, 2>;
@group(0) @binding(5) var<storage, read_write> comp_keys: array<u32>;
@group(0) @binding(6) var<storage, read_write> comp_ids: array<u32>;

@compute @workgroup_size(256)
fn bin_compact_fwd(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                   @builtin(local_invocation_index) lid: u32) {
  let idx = linear_invocation(wid, nwg, lid, 256u);
  if (idx >= frame.num_views * frame.num_splats || comp_visible[idx] == 0u) { return; }
  let j = comp_offsets[idx];
  comp_keys[j] = depth_key(comp_projected[idx * PROJ_STRIDE]) - comp_range[0];
  comp_ids[j] = idx;
}
