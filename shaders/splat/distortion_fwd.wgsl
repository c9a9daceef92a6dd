// distortion_fwd: the 2DGS depth distortion of each pixel, by replaying rasterize_fwd's
// compositing: the same tile lists and alpha tests, each pixel stopping at the end index
// rasterize_fwd kept (so no transmittance test is needed). Same layout as rasterize_fwd:
// 8 lanes per (view, tile), 32 spans per lane, each splat visiting only the spans it can
// reach. Front to back it keeps A = sum w, D1 = sum w m', D2 = sum w m'^2 with
// m' = m - m_first (the shift keeps the f32 sums small when the splats sit together), and
// writes L = A D2 - D1^2 = sum_{i<j} w_i w_j (m_i - m_j)^2 and the moments (D1, D2, m_first)
// that distortion_bwd needs (A = 1 - T it reads from the pixel state; 12 bytes per pixel).
// Runs once per chunk of views (SplatChunk); images are indexed by view_base + view.
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

var<workgroup> s_range: vec2<u32>;
var<workgroup> s_max_end: atomic<u32>;
var<workgroup> s_stop: u32;

@compute @workgroup_size(8)
fn distortion_fwd(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                  @builtin(local_invocation_index) lane: u32) {
  let tiles = frame.tiles_x * frame.tiles_y;
  let wg = linear_workgroup(wid, nwg);
  if (wg >= frame.num_views * tiles) { return; }
  let view = wg / tiles;
  let tile = wg - view * tiles;
  let ty = tile / frame.tiles_x;
  let tx = tile - ty * frame.tiles_x;
  let origin = vec2<f32>(f32(tx * TILE), f32(ty * TILE));

  if (lane == 0u) { s_range = ranges[wg]; }
  let range = workgroupUniformLoad(&s_range);

  var T: array<f32, SPANS>;
  var A: array<f32, SPANS>;
  var D1: array<f32, SPANS>;
  var D2: array<f32, SPANS>;
  var shift: array<f32, SPANS>; // m of the pixel's first splat
  var started: array<bool, SPANS>;
  var end: array<u32, SPANS>;
  var lane_end = range.x;
  for (var p = 0u; p < SPANS; p++) {
    T[p] = 1.0;
    end[p] = range.x;
    let px = span_pixel(tx, ty, p, lane);
    if (px.x >= frame.width || px.y >= frame.height) { continue; }
    end[p] = pixel_state[((frame.view_base + view) * frame.height + px.y) * frame.width + px.x].y;
    lane_end = max(lane_end, end[p]);
  }
  atomicMax(&s_max_end, lane_end);
  workgroupBarrier();
  if (lane == 0u) { s_stop = atomicLoad(&s_max_end); }
  let stop = max(workgroupUniformLoad(&s_stop), range.x);

  for (var k = range.x; k < stop; k++) {
    let base = isect_ids[k] * PROJ_STRIDE;
    let xy_op_z = bitcast<vec4<f32>>(projected[base]);
    let conic = bitcast<vec4<f32>>(projected[base + 1u]).xyz;
    let mean = xy_op_z.xy;
    let opacity = xy_op_z.z;
    let skip = log(255.0 * opacity) + SKIP_MARGIN;
    let thr = cull_threshold(opacity);
    let m_abs = distortion_depth(params, xy_op_z.w);
    let rows = splat_rows(mean, conic, thr, origin);
    for (var row = rows.x; row < rows.y; row++) {
      let yc = origin.y + f32(row) + 0.5;
      for (var h = 0u; h < 2u; h++) {
        let x0 = origin.x + f32(h * LANES) + 0.5;
        if (row_min_sigma(mean, conic, yc, x0, x0 + f32(LANES - 1u)) > thr) { continue; }
        let p = row * 2u + h;
        if (k >= end[p]) { continue; }
        let hit = splat_hit(mean, conic, opacity, skip, vec2<f32>(x0 + f32(lane), yc));
        if (!hit.used) { continue; }
        if (!started[p]) {
          started[p] = true;
          shift[p] = m_abs;
        }
        let m = m_abs - shift[p];
        let w = hit.alpha * T[p];
        A[p] += w;
        D1[p] += w * m;
        D2[p] += w * m * m;
        T[p] *= 1.0 - hit.alpha;
      }
    }
  }
  for (var p = 0u; p < SPANS; p++) {
    let px = span_pixel(tx, ty, p, lane);
    if (px.x >= frame.width || px.y >= frame.height) { continue; }
    let pix = ((frame.view_base + view) * frame.height + px.y) * frame.width + px.x;
    out_distortion[pix] = max(A[p] * D2[p] - D1[p] * D1[p], 0.0);
    out_moments[pix * 3u] = D1[p];
    out_moments[pix * 3u + 1u] = D2[p];
    out_moments[pix * 3u + 2u] = shift[p];
  }
}
