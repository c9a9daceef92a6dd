// distortion_fwd: the 2DGS depth distortion of each pixel, by replaying rasterize_fwd's
// compositing (same tile lists, same alpha tests, stopping at the end index it kept). One
// 16x16 workgroup per (view, tile), one invocation per pixel, splats staged in batches of
// 256 through workgroup memory. Front to back it keeps A = sum w, D1 = sum w m',
// D2 = sum w m'^2 with m' = m - m_first (the shift keeps the f32 sums small when the splats
// sit together), and writes L = A D2 - D1^2 = sum_{i<j} w_i w_j (m_i - m_j)^2 and the
// moments (D1, D2, m_first) that distortion_bwd needs (A = 1 - T it reads from the pixel
// state; 12 bytes per pixel, so the moments fit wherever the rgb image does). Runs once per chunk of views
// (see SplatChunk); images are indexed by view_base + view.
#include "lib/dispatch.wgsl"
#include "splat/distortion_common.wgsl"

@group(0) @binding(0) var<uniform> frame: Frame;
@group(0) @binding(1) var<uniform> params: DistortionParams;
@group(0) @binding(2) var<storage, read> ranges: array<vec2<u32>>;
@group(0) @binding(3) var<storage, read> isect_ids: array<u32>;
@group(0) @binding(4) var<storage, read> projected: array<vec4<u32>>;
@group(0) @binding(5) var<storage, read> pixel_state: array<vec2<u32>>; // final T bits, end index
@group(0) @binding(6) var<storage, read_write> out_distortion: array<f32>;
@group(0) @binding(7) var<storage, read_write> out_moments: array<f32>; // [V][H][W][3]

const BATCH: u32 = 256u;
var<workgroup> s_xy_op_z: array<vec4<f32>, BATCH>;
var<workgroup> s_conic: array<vec4<f32>, BATCH>;
var<workgroup> s_m: array<f32, BATCH>;
var<workgroup> s_range: vec2<u32>;
var<workgroup> s_max_end: atomic<u32>;
var<workgroup> s_max_end_plain: u32;

@compute @workgroup_size(16, 16)
fn distortion_fwd(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
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
  let pix = ((frame.view_base + view) * frame.height + py) * frame.width + px;

  if (lid == 0u) { s_range = ranges[wg]; }
  let range = workgroupUniformLoad(&s_range);
  var end_index = range.x;
  if (inside) { end_index = pixel_state[pix].y; }
  atomicMax(&s_max_end, end_index);
  workgroupBarrier();
  if (lid == 0u) { s_max_end_plain = atomicLoad(&s_max_end); }
  let stop = max(workgroupUniformLoad(&s_max_end_plain), range.x);

  var T = 1.0;
  var A = 0.0;
  var D1 = 0.0;
  var D2 = 0.0;
  var shift = 0.0;
  var first = true;
  for (var b = range.x; b < stop; b += BATCH) {
    workgroupBarrier();
    let k = b + lid;
    if (k < stop) {
      let base = isect_ids[k] * PROJ_STRIDE;
      let xy_op_z = bitcast<vec4<f32>>(projected[base]);
      s_xy_op_z[lid] = xy_op_z;
      s_conic[lid] = load_conic4(bitcast<vec4<f32>>(projected[base + 1u]), xy_op_z.z);
      s_m[lid] = distortion_depth(params, xy_op_z.w);
    }
    workgroupBarrier();
    let count = min(BATCH, end_index - min(b, end_index));
    for (var j = 0u; j < count; j++) {
      let h = splat_hit(s_xy_op_z[j], s_conic[j], pixel);
      if (!h.used) { continue; }
      let m_abs = s_m[j];
      if (first) {
        shift = m_abs;
        first = false;
      }
      let m = m_abs - shift;
      let w = h.alpha * T;
      A += w;
      D1 += w * m;
      D2 += w * m * m;
      T *= 1.0 - h.alpha;
    }
  }
  if (!inside) { return; }
  out_distortion[pix] = max(A * D2 - D1 * D1, 0.0);
  out_moments[pix * 3u] = D1;
  out_moments[pix * 3u + 1u] = D2;
  out_moments[pix * 3u + 2u] = shift;
}
