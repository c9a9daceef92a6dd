// bin_emit_fwd: for each depth-sorted (view, splat), one intersection per tile of its
// rectangle at offsets[j].., key = view * tiles + tile, value = the (view, splat) index.
#include "lib/dispatch.wgsl"
#include "splat/common.wgsl"

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
  if (j >= frame.num_views * frame.num_splats) { return; }
  var o = offsets[j];
  let end = offsets[j + 1u];
  if (end == o) { return; }
  let id = sorted_ids[j];
  let view = id / frame.num_splats;
  let lo = projected[id * PROJ_STRIDE + 2u].w;
  let hi = projected[id * PROJ_STRIDE + 3u].w;
  let tiles = frame.tiles_x * frame.tiles_y;
  for (var ty = lo >> 16u; ty < (hi >> 16u); ty++) {
    for (var tx = lo & 0xffffu; tx < (hi & 0xffffu); tx++) {
      if (o >= end) { return; }
      isect_keys[o] = view * tiles + ty * frame.tiles_x + tx;
      isect_ids[o] = id;
      o++;
    }
  }
}
