#if SUBGROUPS
enable subgroups;
// The workgroup is one subgroup and every lane reaches the subgroupAdd (uniform loop
// bounds), which the uniformity analysis cannot prove through the storage loads.
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
// The 8 lane sums are reduced once per splat (subgroupAdd where the workgroup is one
// subgroup, else per-lane slots in workgroup memory summed once per batch of 32 splats) and
// added to grad2d with one compare-and-swap float add per (splat, component). Runs once per
// chunk of views, into that chunk's grad2d; images are indexed by view_base + view.
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

var<workgroup> s_range: vec2<u32>;
var<workgroup> s_max_end: atomic<u32>;
var<workgroup> s_stop: u32;
#if !SUBGROUPS
var<workgroup> s_part: array<vec4<f32>, 768>; // [BATCH][LANES][3] lane sums
var<workgroup> s_ids: array<u32, BATCH>;
#endif

// Adds a splat's three summed vec4 (d mean2d.xy, d opacity, d z | d conic, 0 |
// |d mean2d.x|, |d mean2d.y|, 0, 0) into its grad2d slots; `part` picks which of the ten
// components this caller adds (all when 10).
fn add_splat(id: u32, g: array<vec4<f32>, 3>, part: u32) {
  let base = id * GRAD_STRIDE;
  for (var c = 0u; c < 10u; c++) {
    if (part != 10u && c != part) { continue; }
    if (c < 4u) {
      atomic_add_f32(&grad2d[base + c], g[0][c]);
    } else if (c < 7u) {
      atomic_add_f32(&grad2d[base + c], g[1][c - 4u]);
    } else if (c == 7u) {
      atomic_add_f32(&grad2d[base + 11u], g[2].x);
    } else if (c == 8u) {
      atomic_add_f32(&grad2d[base + 15u], g[2].y);
    }
  }
}

@compute @workgroup_size(8)
fn distortion_bwd(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
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

  // Per-span replay state of this lane's pixels.
  var T: array<f32, SPANS>;
  var end: array<u32, SPANS>;
  var g: array<f32, SPANS>;
  var mom: array<vec4<f32>, SPANS>; // A, D1, D2, m_first
  var suffix: array<f32, SPANS>;
  var lane_end = range.x;
  for (var p = 0u; p < SPANS; p++) {
    end[p] = range.x;
    let px = span_pixel(tx, ty, p, lane);
    if (px.x >= frame.width || px.y >= frame.height) { continue; }
    let pix = ((frame.view_base + view) * frame.height + px.y) * frame.width + px.x;
    g[p] = cotangent[pix];
    // A pixel without cotangent adds nothing: skip its walk.
    if (g[p] == 0.0) { continue; }
    let st = pixel_state[pix];
    T[p] = bitcast<f32>(st.x);
    end[p] = st.y;
    mom[p] = vec4<f32>(1.0 - T[p], moments[pix * 3u], moments[pix * 3u + 1u], moments[pix * 3u + 2u]);
    lane_end = max(lane_end, st.y);
  }
  atomicMax(&s_max_end, lane_end);
  workgroupBarrier();
  if (lane == 0u) { s_stop = atomicLoad(&s_max_end); }
  let stop = max(workgroupUniformLoad(&s_stop), range.x);

  var batch_end = stop;
  while (batch_end > range.x) {
    let batch_start = select(range.x, batch_end - BATCH, batch_end - range.x > BATCH);
    for (var k = batch_end; k > batch_start; ) {
      k--;
      let id = isect_ids[k];
      let base = id * PROJ_STRIDE;
      let xy_op_z = bitcast<vec4<f32>>(projected[base]);
      let conic = bitcast<vec4<f32>>(projected[base + 1u]).xyz;
      let mean = xy_op_z.xy;
      let opacity = xy_op_z.z;
      let skip = log(255.0 * opacity) + SKIP_MARGIN;
      let thr = cull_threshold(opacity);
      let m_abs = distortion_depth(params, xy_op_z.w);
      let slope = distortion_depth_slope(params, xy_op_z.w);
      let rows = splat_rows(mean, conic, thr, origin);
      // Explicitly zeroed: a declaration without initializer inside a loop kept the previous
      // iteration's values on lavapipe.
      var acc = array<vec4<f32>, 3>(vec4<f32>(0.0), vec4<f32>(0.0), vec4<f32>(0.0));
      for (var row = rows.x; row < rows.y; row++) {
        let yc = origin.y + f32(row) + 0.5;
        for (var h = 0u; h < 2u; h++) {
          let x0 = origin.x + f32(h * LANES) + 0.5;
          if (row_min_sigma(mean, conic, yc, x0, x0 + f32(LANES - 1u)) > thr) { continue; }
          let p = row * 2u + h;
          if (k >= end[p]) { continue; }
          let hit = splat_hit(mean, conic, opacity, skip, vec2<f32>(x0 + f32(lane), yc));
          if (!hit.used) { continue; }
          let A = mom[p].x;
          let D1 = mom[p].y;
          let D2 = mom[p].z;
          let m = m_abs - mom[p].w;
          let one_minus = 1.0 - hit.alpha;
          let T_i = T[p] / one_minus;
          let w = hit.alpha * T_i;
          let e = D2 + A * m * m - 2.0 * D1 * m;
          let v_alpha = g[p] * (e * T_i - suffix[p] / one_minus);
          suffix[p] += e * w;
          T[p] = T_i;
          acc[0].w += g[p] * 2.0 * w * (A * m - D1) * slope;
          // G is 0 where alpha was clamped: no gradient through the Gaussian there.
          let v_sigma = -opacity * hit.G * v_alpha;
          let d = hit.d;
          let v_mean = v_sigma * vec2<f32>(conic.x * d.x + conic.y * d.y, conic.y * d.x + conic.z * d.y);
          acc[0] += vec4<f32>(v_mean, hit.G * v_alpha, 0.0);
          acc[1] += vec4<f32>(0.5 * v_sigma * d.x * d.x, v_sigma * d.x * d.y, 0.5 * v_sigma * d.y * d.y, 0.0);
          acc[2] += vec4<f32>(abs(v_mean), 0.0, 0.0);
        }
      }
#if SUBGROUPS
      // Lane l adds component l (lane 7 also component 8) of the workgroup's sum.
      let sums = array<vec4<f32>, 3>(subgroupAdd(acc[0]), subgroupAdd(acc[1]), subgroupAdd(acc[2]));
      add_splat(id, sums, lane);
      if (lane == 7u) { add_splat(id, sums, 8u); }
#else
      let j = k - batch_start;
      if (lane == 0u) { s_ids[j] = id; }
      let sb = (j * LANES + lane) * 3u;
      for (var q = 0u; q < 3u; q++) { s_part[sb + q] = acc[q]; }
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
      add_splat(s_ids[j], total, 10u);
    }
    workgroupBarrier();
#endif
    batch_end = batch_start;
  }
}
