#if SUBGROUPS
enable subgroups;
// The workgroup is one subgroup and the shuffles sit in the uniform splat loop; the
// analysis loses track of that after the per-pixel returns of span().
diagnostic(off, subgroup_uniformity);
#endif
// distortion_fwd: the 2DGS depth distortion of each pixel, by replaying rasterize_fwd's
// compositing: the same tile lists and alpha tests, each pixel stopping at the end index
// rasterize_fwd kept (so no transmittance test is needed). Same layout as rasterize_fwd:
// 8 lanes per (view, tile), 32 spans per lane, each splat visiting only the spans it can
// reach. Front to back it keeps A = sum w, D1 = sum w m', D2 = sum w m'^2 with
// m' = m - m_first (the shift keeps the f32 sums small when the splats sit together), and
// writes L = A D2 - D1^2 = sum_{i<j} w_i w_j (m_i - m_j)^2 and the moments (D1, D2, m_first)
// that distortion_bwd needs (A = 1 - T it reads from the pixel state; 12 bytes per pixel).
// Runs once per chunk of views (SplatChunk); images are indexed by view_base + view.
// Built as rasterize_fwd is for lavapipe (see there): splats prepared 8 at a time, one per
// lane, and handed to every lane; per-pixel state indexed only by constants; no barrier
// where the workgroup is one subgroup.
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

#if !SUBGROUPS
var<workgroup> s_range: vec2<u32>;
var<workgroup> s_max_end: atomic<u32>;
var<workgroup> s_stop: u32;
var<workgroup> s_prepared: array<Prepared, LANES>;
#endif

// This lane's pixels: transmittance, the three sums, m of the first splat used (A = 0 until
// then) and the end of the splats rasterize_fwd used.
var<private> T: array<f32, SPANS>;
var<private> A: array<f32, SPANS>;
var<private> D1: array<f32, SPANS>;
var<private> D2: array<f32, SPANS>;
var<private> shift: array<f32, SPANS>;
var<private> end: array<u32, SPANS>;

// Adds splat s to the sums of span p (row p / 2, half p % 2) of this lane's pixels.
fn span(p: u32, s: Prepared, origin: vec2<f32>, lane: u32) {
  if ((s.c.y & (1u << p)) == 0u || s.c.w > end[p]) { return; }
  let conic = s.b.xyz;
  let d = span_offset(s.a.xy, origin, p, lane);
  let sigma = gaussian_sigma(conic, d);
  if (sigma > s.b.w) { return; }
  let alpha = min(ALPHA_MAX, s.a.z * exp(-sigma));
  if (sigma < 0.0 || alpha < ALPHA_MIN) { return; }
  // Every weight is positive (alpha >= 1/255, T > T_MIN), so A = 0 marks the first splat.
  if (A[p] == 0.0) { shift[p] = s.a.w; }
  let m = s.a.w - shift[p];
  let w = alpha * T[p];
  A[p] += w;
  D1[p] += w * m;
  D2[p] += w * m * m;
  T[p] *= 1.0 - alpha;
}

fn composite(s: Prepared, origin: vec2<f32>, lane: u32) {
  if (s.c.y == 0u) { return; }
  span(0u, s, origin, lane); span(1u, s, origin, lane); span(2u, s, origin, lane); span(3u, s, origin, lane);
  span(4u, s, origin, lane); span(5u, s, origin, lane); span(6u, s, origin, lane); span(7u, s, origin, lane);
  span(8u, s, origin, lane); span(9u, s, origin, lane); span(10u, s, origin, lane); span(11u, s, origin, lane);
  span(12u, s, origin, lane); span(13u, s, origin, lane); span(14u, s, origin, lane); span(15u, s, origin, lane);
  span(16u, s, origin, lane); span(17u, s, origin, lane); span(18u, s, origin, lane); span(19u, s, origin, lane);
  span(20u, s, origin, lane); span(21u, s, origin, lane); span(22u, s, origin, lane); span(23u, s, origin, lane);
  span(24u, s, origin, lane); span(25u, s, origin, lane); span(26u, s, origin, lane); span(27u, s, origin, lane);
  span(28u, s, origin, lane); span(29u, s, origin, lane); span(30u, s, origin, lane); span(31u, s, origin, lane);
}

@compute @workgroup_size(8)
fn distortion_fwd(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
#if SUBGROUPS
                  @builtin(subgroup_invocation_id) sg_lane: u32,
#endif
                  @builtin(local_invocation_index) lane: u32) {
  let tiles = frame.tiles_x * frame.tiles_y;
  let wg = linear_workgroup(wid, nwg);
  if (wg >= frame.num_views * tiles) { return; }
  let t = tile_place(wg);
  let origin = t.origin;

#if SUBGROUPS
  // No barrier where the workgroup is one subgroup (rasterize_fwd says why).
  let range = ranges[wg];
#else
  if (lane == 0u) { s_range = ranges[wg]; }
  let range = workgroupUniformLoad(&s_range);
#endif

  var lane_end = range.x;
  for (var p = 0u; p < SPANS; p++) {
    T[p] = 1.0;
    A[p] = 0.0;
    D1[p] = 0.0;
    D2[p] = 0.0;
    shift[p] = 0.0;
    end[p] = range.x;
    let px = span_pixel(t, p, lane);
    if (!inside_image(px)) { continue; }
    end[p] = pixel_state[image_index(t, px)].y;
    lane_end = max(lane_end, end[p]);
  }
#if SUBGROUPS
  let stop = max(subgroupMax(lane_end), range.x);
#else
  atomicMax(&s_max_end, lane_end);
  workgroupBarrier();
  if (lane == 0u) { s_stop = atomicLoad(&s_max_end); }
  let stop = max(workgroupUniformLoad(&s_stop), range.x);
#endif

  for (var g = range.x; g < stop; g += LANES) {
#if SUBGROUPS
    // By subgroup lane, so that shuffling from lane j hands out splat g + j.
    let mine = prepare_splat(g + sg_lane, g + sg_lane < stop, origin);
    for (var j = 0u; j < LANES; j++) {
      let s = Prepared(subgroupShuffle(mine.a, j), subgroupShuffle(mine.b, j), subgroupShuffle(mine.c, j), 0.0);
      composite(s, origin, lane);
    }
#else
    let mine = prepare_splat(g + lane, g + lane < stop, origin);
    workgroupBarrier();
    s_prepared[lane] = mine;
    workgroupBarrier();
    for (var j = 0u; j < LANES; j++) { composite(s_prepared[j], origin, lane); }
#endif
  }

  for (var p = 0u; p < SPANS; p++) {
    let px = span_pixel(t, p, lane);
    if (!inside_image(px)) { continue; }
    let pix = image_index(t, px);
    out_distortion[pix] = max(A[p] * D2[p] - D1[p] * D1[p], 0.0);
    out_moments[pix * 3u] = D1[p];
    out_moments[pix * 3u + 1u] = D2[p];
    out_moments[pix * 3u + 2u] = shift[p];
  }
}
