#if SUBGROUPS
enable subgroups;
// The workgroup is one subgroup and every lane reaches the shuffles (uniform loop
// bounds), which the uniformity analysis cannot prove through the storage loads.
diagnostic(off, subgroup_uniformity);
#endif
// rasterize_bwd: one workgroup of 8 lanes per (view, tile); lane l owns the pixels
// l, l + 8, ... of the tile, i.e. one pixel of each of the 32 eight-pixel half-rows (spans).
// Splats are walked back to front from the largest end index rasterize_fwd kept; each pixel
// recovers T_i = T_{i+1} / (1 - alpha_i) and the suffix S of what lies behind
// (rasterizers.md §1.5), kept only as its dot product with the pixel's cotangents. Per
// splat, only the spans whose pixels its alpha can reach (tile_cull.wgsl) are visited,
// each lane sums its pixels' 16 screen-space gradients in registers, and the 8 lane sums
// are reduced once per splat: by subgroup shuffles where the workgroup is one subgroup
// (reduce_scatter), else per-lane slots in workgroup memory summed once per batch of 32
// splats. The sums go to grad2d with one CAS float add per (splat, component).
// DEPTH_NORMAL keeps the depth and normal channels; without it (RGB and alpha cotangents
// only) they are left out, which changes nothing since their cotangents are zero.
// As in rasterize_fwd (see there why): no barrier where the workgroup is one subgroup;
// splats prepared 8 at a time, one per lane, with the spans they reach and everything a
// span reads, and handed to every lane in turn; per-pixel state indexed only by constants.
#include "lib/dispatch.wgsl"
#include "splat/common.wgsl"
#include "splat/tile_lanes.wgsl"
#include "splat/tile_cull.wgsl"
#include "lib/atomic_float.wgsl"

@group(0) @binding(0) var<uniform> frame: Frame;
@group(0) @binding(1) var<storage, read> ranges: array<vec2<u32>>;
@group(0) @binding(2) var<storage, read> isect_ids: array<u32>;
@group(0) @binding(3) var<storage, read> projected: array<vec4<u32>>;
@group(0) @binding(4) var<storage, read> pixel_state: array<vec2<u32>>;
// [rgb P*3][alpha P][depth P][normal P*3], P = views * height * width.
@group(0) @binding(5) var<storage, read> cotangents: array<f32>;
@group(0) @binding(6) var<storage, read_write> grad2d: array<atomic<u32>>;

const BATCH: u32 = 32u;
#if DEPTH_NORMAL
const CH: u32 = 7u; // rgb, depth, normal
#else
const CH: u32 = 3u; // rgb
#endif

// A splat of the tile's list, ready for the backward pass.
struct Prepared {
  a: vec4<f32>, // mean2d.xy, opacity, camera z
  b: vec4<f32>, // conic a, b, c; sigma above which alpha < 1/255 (with the skip margin)
  c: vec4<u32>, // (prefetch, unused), spans the splat can reach (bit p), (view, splat) id, list index + 1 (0: none)
  rgb: vec4<f32>, // colour, 0
#if DEPTH_NORMAL
  normal: vec4<f32>, // world-space normal, 0
#endif
}

var<workgroup> s_range: vec2<u32>;
var<workgroup> s_max_end: atomic<u32>;
var<workgroup> s_stop: u32;
#if !SUBGROUPS
var<workgroup> s_part: array<vec4<f32>, 1024>; // [BATCH][LANES][4] lane sums
var<workgroup> s_ids: array<u32, BATCH>;
var<workgroup> s_prepared: array<Prepared, LANES>;
#endif

// Per-span replay state of this lane's pixels.
var<private> T: array<f32, SPANS>;
var<private> end: array<u32, SPANS>;
var<private> g_feat: array<array<f32, CH>, SPANS>; // the pixel's cotangents
// T_final (d alpha - background . d rgb): the background's share of d alpha_i, times (1 - alpha_i).
var<private> g_bg: array<f32, SPANS>;
// g_feat . S, S the suffix of what lies behind: all of S that d alpha_i needs, kept as one
// number per pixel rather than CH.
var<private> g_suffix: array<f32, SPANS>;
// The current splat's gradients summed over this lane's pixels.
var<private> g0: vec4<f32>; // d mean2d.xy, d opacity, d z
var<private> g1: vec4<f32>; // d conic, 0
var<private> g2: vec4<f32>; // d rgb, |d mean2d.x|
var<private> g3: vec4<f32>; // d normal, |d mean2d.y|

// Splat k of the list (none when `valid` is false): its record and the spans of the tile its
// alpha can reach (within the ellipse's rows, the exact test of tile_cull.wgsl).
fn prepare(k: u32, valid: bool, origin: vec2<f32>) -> Prepared {
  var r: Prepared;
  if (!valid) { return r; }
  let id = isect_ids[k];
  let base = id * PROJ_STRIDE;
  let xy_op_z = bitcast<vec4<f32>>(projected[base]);
  let conic = bitcast<vec4<f32>>(projected[base + 1u]).xyz;
  let spans = reachable_spans(xy_op_z.xy, conic, cull_threshold(xy_op_z.z), origin);
  r.a = xy_op_z;
  r.b = vec4<f32>(conic, log(255.0 * xy_op_z.z) + SKIP_MARGIN);
  // Touch the splat's gradient record now, 8 splats' cache misses side by side, rather
  // than one at a time in the atomic adds below.
  r.c = vec4<u32>(atomicLoad(&grad2d[id * GRAD_STRIDE]), spans, id, k + 1u);
  r.rgb = vec4<f32>(bitcast<vec4<f32>>(projected[base + 2u]).xyz, 0.0);
#if DEPTH_NORMAL
  r.normal = vec4<f32>(bitcast<vec4<f32>>(projected[base + 3u]).xyz, 0.0);
#endif
  return r;
}

// Adds splat s's gradients at the pixels of span p (row p / 2, half p % 2) into g0..g3 and
// steps their T and g_suffix back past it.
fn span(p: u32, s: Prepared, feat: array<f32, CH>, origin: vec2<f32>, lane: u32) {
  if ((s.c.y & (1u << p)) == 0u) { return; }
  let opacity = s.a.z;
  let conic = s.b.xyz;
  // One early return for the pixels that did not composite the splat (lavapipe skips the
  // rest when no lane did; a subgroupAny vote there is a loop over the lanes), then no
  // further branch: one condition's mask costs less than several nested ones.
  let hit = replay_hit(s.a.xy, conic, opacity, s.b.w, s.c.w <= end[p], origin, p, lane);
  let d = hit.d;
  let G = hit.G;
  let raw_alpha = hit.raw_alpha;
  let used = hit.used;
  if (!used) { return; }
  let alpha = select(0.0, min(ALPHA_MAX, raw_alpha), used);
  let inv = 1.0 / (1.0 - alpha);
  let T_i = T[p] * inv;
  let w = alpha * T_i;
  var gf = 0.0;
  for (var c = 0u; c < CH; c++) { gf += g_feat[p][c] * feat[c]; }
  var v_alpha = (g_bg[p] - g_suffix[p]) * inv + T_i * gf;
  g_suffix[p] += gf * w;
  g2 += vec4<f32>(g_feat[p][0] * w, g_feat[p][1] * w, g_feat[p][2] * w, 0.0);
#if DEPTH_NORMAL
  g0.w += g_feat[p][3] * w;
  g3 += vec4<f32>(g_feat[p][4] * w, g_feat[p][5] * w, g_feat[p][6] * w, 0.0);
#endif
  // Where alpha was clamped at ALPHA_MAX it has no gradient.
  v_alpha = select(0.0, v_alpha, used && raw_alpha <= ALPHA_MAX);
  let v_sigma = -opacity * G * v_alpha;
  let v_mean = v_sigma * vec2<f32>(conic.x * d.x + conic.y * d.y, conic.y * d.x + conic.z * d.y);
  g0 += vec4<f32>(v_mean, G * v_alpha, 0.0);
  g1 += vec4<f32>(0.5 * v_sigma * d.x * d.x, v_sigma * d.x * d.y, 0.5 * v_sigma * d.y * d.y, 0.0);
  g2.w += abs(v_mean.x);
  g3.w += abs(v_mean.y);
  T[p] = T_i;
}

// Splat s's gradients over this lane's pixels, into g0..g3 (zeroed first).
fn splat_grads(s: Prepared, origin: vec2<f32>, lane: u32) {
  g0 = vec4<f32>(0.0);
  g1 = vec4<f32>(0.0);
  g2 = vec4<f32>(0.0);
  g3 = vec4<f32>(0.0);
#if DEPTH_NORMAL
  let feat = array<f32, CH>(s.rgb.x, s.rgb.y, s.rgb.z, s.a.w, s.normal.x, s.normal.y, s.normal.z);
#else
  let feat = array<f32, CH>(s.rgb.x, s.rgb.y, s.rgb.z);
#endif
  span(0u, s, feat, origin, lane); span(1u, s, feat, origin, lane); span(2u, s, feat, origin, lane); span(3u, s, feat, origin, lane);
  span(4u, s, feat, origin, lane); span(5u, s, feat, origin, lane); span(6u, s, feat, origin, lane); span(7u, s, feat, origin, lane);
  span(8u, s, feat, origin, lane); span(9u, s, feat, origin, lane); span(10u, s, feat, origin, lane); span(11u, s, feat, origin, lane);
  span(12u, s, feat, origin, lane); span(13u, s, feat, origin, lane); span(14u, s, feat, origin, lane); span(15u, s, feat, origin, lane);
  span(16u, s, feat, origin, lane); span(17u, s, feat, origin, lane); span(18u, s, feat, origin, lane); span(19u, s, feat, origin, lane);
  span(20u, s, feat, origin, lane); span(21u, s, feat, origin, lane); span(22u, s, feat, origin, lane); span(23u, s, feat, origin, lane);
  span(24u, s, feat, origin, lane); span(25u, s, feat, origin, lane); span(26u, s, feat, origin, lane); span(27u, s, feat, origin, lane);
  span(28u, s, feat, origin, lane); span(29u, s, feat, origin, lane); span(30u, s, feat, origin, lane); span(31u, s, feat, origin, lane);
}

@compute @workgroup_size(8)
fn rasterize_bwd(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
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
  // No barrier where the workgroup is one subgroup: on lavapipe a barrier makes the kernel
  // a coroutine, and LLVM then recomputes values that live across it (the tile origin's
  // integer divisions, per lane) at every use, in every span.
  let range = ranges[wg];
#else
  if (lane == 0u) { s_range = ranges[wg]; }
  let range = workgroupUniformLoad(&s_range);
#endif

  let npix = frame.total_views * frame.width * frame.height;
  let bg = frame.background.xyz;
  var lane_end = range.x;
  for (var p = 0u; p < SPANS; p++) {
    let px = span_pixel(t, p, lane);
    end[p] = range.x;
    if (!inside_image(px)) { continue; }
    let pix = image_index(t, px);
    let st = pixel_state[pix];
    T[p] = bitcast<f32>(st.x);
    end[p] = st.y;
    lane_end = max(lane_end, st.y);
    for (var c = 0u; c < 3u; c++) { g_feat[p][c] = cotangents[pix * 3u + c]; }
#if DEPTH_NORMAL
    g_feat[p][3] = cotangents[npix * 4u + pix];
    for (var c = 0u; c < 3u; c++) { g_feat[p][4u + c] = cotangents[npix * 5u + pix * 3u + c]; }
#endif
    g_bg[p] = T[p] * (cotangents[npix * 3u + pix] - dot(bg, vec3<f32>(g_feat[p][0], g_feat[p][1], g_feat[p][2])));
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
#if DEPTH_NORMAL
        let s = Prepared(subgroupShuffle(mine.a, j), subgroupShuffle(mine.b, j), subgroupShuffle(mine.c, j),
                         subgroupShuffle(mine.rgb, j), subgroupShuffle(mine.normal, j));
#else
        let s = Prepared(subgroupShuffle(mine.a, j), subgroupShuffle(mine.b, j), subgroupShuffle(mine.c, j),
                         subgroupShuffle(mine.rgb, j));
#endif
        if (s.c.w == 0u) { break; }
        splat_grads(s, origin, lane);
        // Lane l adds components 2l and 2l + 1 of the workgroup's sum.
        let v = reduce_scatter(sg_lane, g0, g1, g2, g3);
        let slot = s.c.z * GRAD_STRIDE + sg_lane * 2u;
        atomic_add_f32(&grad2d[slot], v.x);
        atomic_add_f32(&grad2d[slot + 1u], v.y);
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
        let sb = (i * LANES + lane) * 4u;
        s_part[sb] = g0;
        s_part[sb + 1u] = g1;
        s_part[sb + 2u] = g2;
        s_part[sb + 3u] = g3;
      }
#endif
    }
#if !SUBGROUPS
    // Sum the lanes' slots: lane l takes every eighth (splat, component).
    workgroupBarrier();
    let count = batch_end - batch_start;
    for (var e = lane; e < count * GRAD_STRIDE; e += LANES) {
      let j = e / GRAD_STRIDE;
      let q = e % GRAD_STRIDE;
      var total = 0.0;
      for (var l = 0u; l < LANES; l++) { total += s_part[(j * LANES + l) * 4u + q / 4u][q % 4u]; }
      atomic_add_f32(&grad2d[s_ids[j] * GRAD_STRIDE + q], total);
    }
    workgroupBarrier();
#endif
    batch_end = batch_start;
  }
}
