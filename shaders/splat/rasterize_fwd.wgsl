// rasterize_fwd: one 16x16 workgroup per (view, tile), one invocation per pixel. The
// workgroup loads the tile's depth-sorted splats in batches of 256 into workgroup memory;
// each pixel composites front to back (rasterizers.md §1.4) and the workgroup stops once
// every pixel is done. Per pixel it keeps the final transmittance and the end of the
// splats it used, for rasterize_bwd.
#include "lib/dispatch.wgsl"
#include "splat/common.wgsl"

@group(0) @binding(0) var<uniform> frame: Frame;
@group(0) @binding(1) var<storage, read> ranges: array<vec2<u32>>;
@group(0) @binding(2) var<storage, read> isect_ids: array<u32>;
@group(0) @binding(3) var<storage, read> projected: array<vec4<u32>>;
@group(0) @binding(4) var<storage, read_write> out_rgb: array<f32>;
@group(0) @binding(5) var<storage, read_write> out_alpha: array<f32>;
@group(0) @binding(6) var<storage, read_write> out_depth: array<f32>;
@group(0) @binding(7) var<storage, read_write> out_normal: array<f32>;
@group(0) @binding(8) var<storage, read_write> pixel_state: array<vec2<u32>>; // final T bits, end index

const BATCH: u32 = 256u;
var<workgroup> s_xy_op_z: array<vec4<f32>, BATCH>;
var<workgroup> s_conic: array<vec4<f32>, BATCH>;
var<workgroup> s_rgb: array<vec4<f32>, BATCH>;
var<workgroup> s_normal: array<vec4<f32>, BATCH>;
var<workgroup> s_range: vec2<u32>;
var<workgroup> s_done: atomic<u32>;
var<workgroup> s_done_snapshot: u32;

@compute @workgroup_size(16, 16)
fn rasterize_fwd(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                 @builtin(local_invocation_id) lid3: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let tiles = frame.tiles_x * frame.tiles_y;
  let wg = linear_workgroup(wid, nwg);
  if (wg >= frame.num_views * tiles) { return; }
  let view = wg / tiles;
  let tile = wg - view * tiles;
  let ty = tile / frame.tiles_x;
  let tx = tile - ty * frame.tiles_x;
  let px = tx * TILE + lid3.x;
  let py = ty * TILE + lid3.y;
  let inside = px < frame.width && py < frame.height;
  let pixel = vec2<f32>(f32(px) + 0.5, f32(py) + 0.5);

  if (lid == 0u) { s_range = ranges[wg]; }
  let range = workgroupUniformLoad(&s_range);

  var done = !inside;
  if (done) { atomicAdd(&s_done, 1u); }
  var T = 1.0;
  var rgb = vec3<f32>(0.0);
  var depth = 0.0;
  var normal = vec3<f32>(0.0);
  var end_index = range.x;
  for (var b = range.x; b < range.y; b += BATCH) {
    workgroupBarrier();
    if (lid == 0u) { s_done_snapshot = atomicLoad(&s_done); }
    if (workgroupUniformLoad(&s_done_snapshot) == BATCH) { break; }
    let k = b + lid;
    if (k < range.y) {
      let base = isect_ids[k] * PROJ_STRIDE;
      s_xy_op_z[lid] = bitcast<vec4<f32>>(projected[base]);
      // w: the sigma beyond which alpha < 1/255, so most far pixels skip the exp.
      let conic_comp = bitcast<vec4<f32>>(projected[base + 1u]);
      let op = bitcast<f32>(projected[base].z);
      s_conic[lid] = vec4<f32>(conic_comp.xyz, log(255.0 * op) + SKIP_MARGIN);
      s_rgb[lid] = bitcast<vec4<f32>>(projected[base + 2u]);
      s_normal[lid] = bitcast<vec4<f32>>(projected[base + 3u]);
    }
    workgroupBarrier();
    if (!done) {
      let count = min(BATCH, range.y - b);
      for (var j = 0u; j < count; j++) {
        let xy_op_z = s_xy_op_z[j];
        let conic4 = s_conic[j];
        let conic = conic4.xyz;
        let d = xy_op_z.xy - pixel;
        let sigma = 0.5 * (conic.x * d.x * d.x + conic.z * d.y * d.y) + conic.y * d.x * d.y;
        if (sigma > conic4.w) { continue; }
        let alpha = min(ALPHA_MAX, xy_op_z.z * exp(-sigma));
        if (sigma < 0.0 || alpha < ALPHA_MIN) { continue; }
        let next_T = T * (1.0 - alpha);
        if (next_T <= T_MIN) {
          done = true;
          break;
        }
        let w = alpha * T;
        rgb += s_rgb[j].xyz * w;
        depth += xy_op_z.w * w;
        normal += s_normal[j].xyz * w;
        T = next_T;
        end_index = b + j + 1u;
      }
      if (done) { atomicAdd(&s_done, 1u); }
    }
  }
  if (!inside) { return; }
  let pix = (view * frame.height + py) * frame.width + px;
  let bg = frame.background.xyz;
  out_rgb[pix * 3u] = rgb.x + T * bg.x;
  out_rgb[pix * 3u + 1u] = rgb.y + T * bg.y;
  out_rgb[pix * 3u + 2u] = rgb.z + T * bg.z;
  out_alpha[pix] = 1.0 - T;
  out_depth[pix] = depth;
  out_normal[pix * 3u] = normal.x;
  out_normal[pix * 3u + 1u] = normal.y;
  out_normal[pix * 3u + 2u] = normal.z;
  pixel_state[pix] = vec2<u32>(bitcast<u32>(T), end_index);
}
