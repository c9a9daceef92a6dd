#if SUBGROUPS
enable subgroups;
// The workgroup is one subgroup and every lane reaches the subgroup operations (uniform
// loop bounds), which the uniformity analysis cannot prove through the storage loads.
diagnostic(off, subgroup_uniformity);
#endif
// distortion_bwd: the exact gradient of sum_pixels g * L (L from distortion_fwd) into the
// screen-space gradients that rasterize_bwd also writes (layout in common.wgsl): mean2d,
// opacity, camera z, conic and the |d mean2d| sums. Same layout as rasterize_bwd: 8 lanes
// per (view, tile), 32 spans per lane, splats walked back to front from the largest end
// index, each visiting only the spans it can reach. Each pixel recovers
// T_i = T_{i+1} / (1 - alpha_i) as rasterize_bwd does, with e_k = dL/dw_k =
// D2 + A m'_k^2 - 2 D1 m'_k from the forward's moments (A = 1 - T_final) and the suffix
// S = sum_{k>i} e_k w_k:
//   dL/dalpha_i = e_i T_i - S / (1 - alpha_i),   dL/dm_i = 2 w_i (A m'_i - D1).
// The 8 lane sums are reduced once per splat (by subgroup shuffles, reduce_scatter, where the
// workgroup is one subgroup, else per-lane slots in workgroup memory summed once per batch of 32 splats) and
// added to grad2d with one compare-and-swap float add per (splat, component). Runs once per
// chunk of views, into that chunk's grad2d; images are indexed by view_base + view.
// Built as rasterize_bwd is for lavapipe (see there and rasterize_fwd): splats prepared 8
// at a time, one per lane, and handed to every lane; per-pixel state indexed only by
// constants; no barrier where the workgroup is one subgroup; the span body without branches
// past one early return.
#include "lib/dispatch.wgsl"
#include "splat/distortion_common.wgsl"
#include "lib/atomic_float.wgsl"

@group(0) @binding(0) var<uniform> frame: Frame;
@group(0) @binding(1) var<uniform> params: DistortionParams;
@group(0) @binding(2) var<storage, read> ranges: array<vec2<u32>>;
@group(0) @binding(3) var<storage, read> isect_ids: array<u32>;
@group(0) @binding(4) var<storage, read> projected: array<vec4<u32>>;
@group(0) @binding(5) var<storage, read> pixel_state: array<vec2<u32>>;
@group(0) @binding(6) var<storage, read> moments: array<f32>; // [V][H][W] x (D1, D2, m_first)
@group(0) @binding(7) var<storage, read> cotangent: array<f32>; // [V][H][W]
@group(0) @binding(8) var<storage, read_write> grad2d: array<atomic<u32>>;

const BATCH: u32 = 32u;

#if !SUBGROUPS
var<workgroup> s_range: vec2<u32>;
var<workgroup> s_max_end: atomic<u32>;
var<workgroup> s_stop: u32;
var<workgroup> s_part: array<vec4<f32>, 768>; // [BATCH][LANES][3] lane sums
var<workgroup> s_ids: array<u32, BATCH>;
var<workgroup> s_prepared: array<Prepared, LANES>;
#endif

// Per-span replay state of this lane's pixels: T, the end of the splats used, the
// cotangent, the forward's moments (A, D1, D2, m_first) and the suffix S.
var<private> T: array<f32, SPANS>;
var<private> end: array<u32, SPANS>;
var<private> g: array<f32, SPANS>;
var<private> mom: array<vec4<f32>, SPANS>;
var<private> suffix: array<f32, SPANS>;
// The current splat's gradients summed over this lane's pixels.
var<private> g0: vec4<f32>; // d mean2d.xy, d opacity, d z
var<private> g1: vec4<f32>; // d conic, 0
var<private> g2: vec4<f32>; // |d mean2d.x|, |d mean2d.y|, 0, 0

fn prepare(k: u32, valid: bool, origin: vec2<f32>) -> Prepared {
  var r = prepare_splat(k, valid, origin);
  // Touch the splat's gradient record now, 8 splats' cache misses side by side, rather
  // than one at a time in the atomic adds.
  if (valid) { r.c.x = atomicLoad(&grad2d[r.c.z * GRAD_STRIDE]); }
  return r;
}

// Adds splat s's gradients at the pixels of span p (row p / 2, half p % 2) into g0..g2 and
// steps their T and suffix back past it.
fn span(p: u32, s: Prepared, origin: vec2<f32>, lane: u32) {
  if ((s.c.y & (1u << p)) == 0u) { return; }
  let opacity = s.a.z;
  let conic = s.b.xyz;
  // One early return for the pixels that did not composite the splat, then no further
  // branch (rasterize_bwd says why).
  let hit = replay_hit(s.a.xy, conic, opacity, s.b.w, s.c.w <= end[p], origin, p, lane);
  let d = hit.d;
  let G = hit.G;
  let raw_alpha = hit.raw_alpha;
  let used = hit.used;
  if (!used) { return; }
  let alpha = select(0.0, min(ALPHA_MAX, raw_alpha), used);
  let A = mom[p].x;
  let D1 = mom[p].y;
  let D2 = mom[p].z;
  let m = s.a.w - mom[p].w;
  let one_minus = 1.0 - alpha;
  let T_i = T[p] / one_minus;
  let w = alpha * T_i;
  let e = D2 + A * m * m - 2.0 * D1 * m;
  let v_alpha = g[p] * (e * T_i - suffix[p] / one_minus);
  suffix[p] += e * w;
  T[p] = T_i;
  g0.w += g[p] * 2.0 * w * (A * m - D1) * s.slope;
  // Zero where alpha was clamped at ALPHA_MAX (no gradient through the Gaussian there) and
  // on the pixels that did not use the splat.
  let Gu = select(0.0, G, used && raw_alpha <= ALPHA_MAX);
  let v_sigma = -opacity * Gu * v_alpha;
  let v_mean = v_sigma * vec2<f32>(conic.x * d.x + conic.y * d.y, conic.y * d.x + conic.z * d.y);
  g0 += vec4<f32>(v_mean, Gu * v_alpha, 0.0);
  g1 += vec4<f32>(0.5 * v_sigma * d.x * d.x, v_sigma * d.x * d.y, 0.5 * v_sigma * d.y * d.y, 0.0);
  g2 += vec4<f32>(abs(v_mean), 0.0, 0.0);
}

// Splat s's gradients over this lane's pixels, into g0..g2 (zeroed first).
fn splat_grads(s: Prepared, origin: vec2<f32>, lane: u32) {
  g0 = vec4<f32>(0.0);
  g1 = vec4<f32>(0.0);
  g2 = vec4<f32>(0.0);
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

// Adds a splat's summed g0..g2 into its grad2d slots (the workgroup-memory path).
fn add_splat(id: u32, sums: array<vec4<f32>, 3>) {
  let base = id * GRAD_STRIDE;
  for (var c = 0u; c < 4u; c++) { atomic_add_f32(&grad2d[base + c], sums[0][c]); }
  for (var c = 0u; c < 3u; c++) { atomic_add_f32(&grad2d[base + 4u + c], sums[1][c]); }
  atomic_add_f32(&grad2d[base + 11u], sums[2].x);
  atomic_add_f32(&grad2d[base + 15u], sums[2].y);
}

@compute @workgroup_size(8)
fn distortion_bwd(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
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
    T[p] = 0.0;
    end[p] = range.x;
    g[p] = 0.0;
    mom[p] = vec4<f32>(0.0);
    suffix[p] = 0.0;
    let px = span_pixel(t, p, lane);
    if (!inside_image(px)) { continue; }
    let pix = image_index(t, px);
    g[p] = cotangent[pix];
    // A pixel without cotangent adds nothing: skip its walk.
    if (g[p] == 0.0) { continue; }
    let st = pixel_state[pix];
    T[p] = bitcast<f32>(st.x);
    end[p] = st.y;
    mom[p] = vec4<f32>(1.0 - T[p], moments[pix * 3u], moments[pix * 3u + 1u], moments[pix * 3u + 2u]);
    lane_end = max(lane_end, st.y);
  }
#if SUBGROUPS
  let stop = max(subgroupMax(lane_end), range.x);
#else
  atomicMax(&s_max_end, lane_end);
  workgroupBarrier();
  if (lane == 0u) { s_stop = atomicLoad(&s_max_end); }
  let stop = max(workgroupUniformLoad(&s_stop), range.x);
#endif

  var batch_end = stop;
  while (batch_end > range.x) {
    let batch_start = select(range.x, batch_end - BATCH, batch_end - range.x > BATCH);
    // Groups of up to 8 splats, back to front: splat top - 1 - j of a group is prepared by
    // (subgroup) lane j.
    for (var top = batch_end; top > batch_start; top = select(batch_start, top - LANES, top - batch_start > LANES)) {
#if SUBGROUPS
      let mine = prepare(top - 1u - sg_lane, top - batch_start > sg_lane, origin);
      for (var j = 0u; j < LANES; j++) {
        let s = Prepared(subgroupShuffle(mine.a, j), subgroupShuffle(mine.b, j), subgroupShuffle(mine.c, j),
                         subgroupShuffle(mine.slope, j));
        if (s.c.w == 0u) { break; }
        if (s.c.y == 0u) { continue; }
        splat_grads(s, origin, lane);
        // Lanes 0-3 add components 2l and 2l + 1 of (g0, g1) (slots 0-7), lane 4 the
        // |d mean2d| of g2.xy (slots 11 and 15).
        let v = reduce_scatter(sg_lane, g0, g1, g2, vec4<f32>(0.0));
        let base = s.c.z * GRAD_STRIDE;
        if (sg_lane < 4u) {
          atomic_add_f32(&grad2d[base + sg_lane * 2u], v.x);
          atomic_add_f32(&grad2d[base + sg_lane * 2u + 1u], v.y);
        } else if (sg_lane == 4u) {
          atomic_add_f32(&grad2d[base + 11u], v.x);
          atomic_add_f32(&grad2d[base + 15u], v.y);
        }
      }
#else
      let mine = prepare(top - 1u - lane, top - batch_start > lane, origin);
      workgroupBarrier();
      s_prepared[lane] = mine;
      workgroupBarrier();
      for (var j = 0u; j < LANES; j++) {
        let s = s_prepared[j];
        if (s.c.w == 0u) { break; }
        splat_grads(s, origin, lane);
        let i = s.c.w - 1u - batch_start;
        if (lane == 0u) { s_ids[i] = s.c.z; }
        let sb = (i * LANES + lane) * 3u;
        s_part[sb] = g0;
        s_part[sb + 1u] = g1;
        s_part[sb + 2u] = g2;
      }
#endif
    }
#if !SUBGROUPS
    // Sum the lanes' slots: lane l takes the splats l, l + 8, ... of the batch.
    workgroupBarrier();
    let count = batch_end - batch_start;
    for (var j = lane; j < count; j += LANES) {
      var total = array<vec4<f32>, 3>(vec4<f32>(0.0), vec4<f32>(0.0), vec4<f32>(0.0));
      for (var l = 0u; l < LANES; l++) {
        for (var q = 0u; q < 3u; q++) { total[q] += s_part[(j * LANES + l) * 3u + q]; }
      }
      add_splat(s_ids[j], total);
    }
    workgroupBarrier();
#endif
    batch_end = batch_start;
  }
}
