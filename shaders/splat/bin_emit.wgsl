// bin_emit_fwd: for each depth-sorted visible (view, splat), one intersection per tile of its
// rectangle that its ellipse reaches (the test project_fwd counted with) at offsets[j]..,
// key = view * tiles + tile, value = the (view, splat) index. Should rounding make the two
// disagree, extra tiles are dropped and missing ones become padding with the key
// views * tiles, which sorts last and tile_ranges skips; either way the tile in question is
// one where alpha stays below 1/255 (the test's margin), so the image cannot change.
#include "lib/dispatch.wgsl"
#include "splat/common.wgsl"
#include "splat/tile_cull.wgsl"

@group(0) @binding(0) var<uniform> frame: Frame;
@group(0) @binding(1) var<storage, read> sorted_ids: array<u32>;
@group(0) @binding(2) var<storage, read> offsets: array<u32>;
@group(0) @binding(3) var<storage, read> projected: array<vec4<u32>>;
@group(0) @binding(4) var<storage, read_write> isect_keys: array<u32>;
@group(0) @binding(5) var<storage, read_write> isect_ids: array<u32>;

@compute @workgroup_size(256)
fn bin_emit_fwd(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                @builtin(local_invocation_index) lid: u32) {
  let j = linear_invocation(wid, nwg, lid, 256u);
  if (j >= frame.num_visible) { return; }
  var o = offsets[j];
  let end = offsets[j + 1u];
  if (end == o) { return; }
  let id = sorted_ids[j];
  let view = id / frame.num_splats;
  let p0 = bitcast<vec4<f32>>(projected[id * PROJ_STRIDE]);
  let conic = bitcast<vec4<f32>>(projected[id * PROJ_STRIDE + 1u]).xyz;
  let lo = projected[id * PROJ_STRIDE + 2u].w;
  let hi = projected[id * PROJ_STRIDE + 3u].w;
  let thr = cull_threshold(p0.z);
  let tiles = frame.tiles_x * frame.tiles_y;
  for (var ty = lo >> 16u; ty < (hi >> 16u); ty++) {
    for (var tx = lo & 0xffffu; tx < (hi & 0xffffu); tx++) {
      if (o >= end) { return; }
      if (!tile_touched(p0.xy, conic, thr, tx, ty)) { continue; }
      isect_keys[o] = view * tiles + ty * frame.tiles_x + tx;
      isect_ids[o] = id;
      o++;
    }
  }
  for (; o < end; o++) {
    isect_keys[o] = frame.num_views * tiles;
    isect_ids[o] = id;
  }
}
