#if SUBGROUPS
enable subgroups;
// The workgroup is one subgroup and the early-exit check sits in the uniform batch loop;
// the analysis loses track of that after the per-pixel returns of span().
diagnostic(off, subgroup_uniformity);
#endif
// rasterize_fwd: one workgroup of 8 lanes per (view, tile); lane l owns the pixels l, l + 8,
// ... of the tile, one in each of the 32 eight-pixel half-rows (spans). The tile's
// depth-sorted splats are read in order; each splat visits only the spans its alpha can
// reach (tile_cull.wgsl), where each pixel composites front to back (rasterizers.md §1.4).
// Every 32 splats the workgroup stops if all its pixels are done. Per pixel it keeps the
// final transmittance and the end of the splats it used, for rasterize_bwd.
//
// What makes it fast on lavapipe (SIMD over 8 lanes on the CPU):
//  - no barrier where the workgroup is one subgroup (see the range load below);
//  - splats are prepared 8 at a time, lane l loading and setting up splat l of the group,
//    then handed to every lane in turn (subgroupShuffle, or workgroup memory): the 8 loads of
//    a group's scattered projected records overlap, where one splat at a time waits for each.
//    Everything a span reads comes from there: a load in the span, even from an address
//    all lanes share, is a per-lane gather on lavapipe (it took 60% of the span's code);
//  - the preparing lane also finds the spans the splat reaches (a bit mask), 8 splats' tests
//    side by side in the lanes instead of one splat's repeated in all of them;
//  - the per-pixel state arrays are indexed only by constants (span() is called once per
//    span with a literal index), so they stay in registers; a dynamic index turns every
//    access into a per-lane gather or scatter.
#include "lib/dispatch.wgsl"
#include "splat/common.wgsl"
#include "splat/tile_lanes.wgsl"
#include "splat/tile_cull.wgsl"

@group(0) @binding(0) var<uniform> frame: Frame;
@group(0) @binding(1) var<storage, read> ranges: array<vec2<u32>>;
@group(0) @binding(2) var<storage, read> isect_ids: array<u32>;
@group(0) @binding(3) var<storage, read> projected: array<vec4<u32>>;
@group(0) @binding(4) var<storage, read_write> out_rgb: array<f32>;
@group(0) @binding(5) var<storage, read_write> out_alpha: array<f32>;
@group(0) @binding(6) var<storage, read_write> out_depth: array<f32>;
@group(0) @binding(7) var<storage, read_write> out_normal: array<f32>;
@group(0) @binding(8) var<storage, read_write> pixel_state: array<vec2<u32>>; // final T bits, end index

const CHECK_EVERY: u32 = 32u;

// A splat of the tile's list, ready to composite.
struct Prepared {
  a: vec4<f32>, // mean2d.xy, opacity, camera z
  b: vec4<f32>, // conic a, b, c; sigma above which alpha < 1/255 (with the skip margin)
  c: vec4<u32>, // 0, spans the splat can reach (bit p), projected base, list index + 1 (0: none)
  rgb: vec4<f32>, // colour, 0
  normal: vec4<f32>, // world-space normal, 0
}

var<workgroup> s_range: vec2<u32>;
var<workgroup> s_live: atomic<u32>;
var<workgroup> s_live_snapshot: u32;
#if !SUBGROUPS
var<workgroup> s_prepared: array<Prepared, LANES>;
#endif

// This lane's pixels: transmittance, accumulated colour, depth and normal, the end of the
// splats used, whether compositing stopped; and how many are still compositing.
var<private> T: array<f32, SPANS>;
var<private> rgb: array<vec3<f32>, SPANS>;
var<private> depth: array<f32, SPANS>;
var<private> normal: array<vec3<f32>, SPANS>;
var<private> end: array<u32, SPANS>;
var<private> done: array<bool, SPANS>;
var<private> live: u32;

// Splat k of the list (none at or past `last`): its projected record and the spans of the
// tile its alpha can reach (within the ellipse's rows, the exact test of tile_cull.wgsl).
fn prepare(k: u32, last: u32, origin: vec2<f32>) -> Prepared {
  var r: Prepared;
  if (k >= last) { return r; }
  let base = isect_ids[k] * PROJ_STRIDE;
  let xy_op_z = bitcast<vec4<f32>>(projected[base]);
  let conic = bitcast<vec4<f32>>(projected[base + 1u]).xyz;
  let spans = reachable_spans(xy_op_z.xy, conic, cull_threshold(xy_op_z.z), origin);
  r.a = xy_op_z;
  r.b = vec4<f32>(conic, log(255.0 * xy_op_z.z) + SKIP_MARGIN);
  r.c = vec4<u32>(0u, spans, base, k + 1u);
  r.rgb = vec4<f32>(bitcast<vec4<f32>>(projected[base + 2u]).xyz, 0.0);
  r.normal = vec4<f32>(bitcast<vec4<f32>>(projected[base + 3u]).xyz, 0.0);
  return r;
}

// Composites splat s into span p (row p / 2, half p % 2) of this lane's pixels.
fn span(p: u32, s: Prepared, origin: vec2<f32>, lane: u32) {
  if ((s.c.y & (1u << p)) == 0u || done[p]) { return; }
  let conic = s.b.xyz;
  let d = span_offset(s.a.xy, origin, p, lane);
  let sigma = gaussian_sigma(conic, d);
  if (sigma > s.b.w) { return; }
  let alpha = min(ALPHA_MAX, s.a.z * exp(-sigma));
  if (sigma < 0.0 || alpha < ALPHA_MIN) { return; }
  let next_T = T[p] * (1.0 - alpha);
  if (next_T <= T_MIN) {
    done[p] = true;
    live -= 1u;
    return;
  }
  let w = alpha * T[p];
  rgb[p] += s.rgb.xyz * w;
  depth[p] += s.a.w * w;
  normal[p] += s.normal.xyz * w;
  T[p] = next_T;
  end[p] = s.c.w;
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
fn rasterize_fwd(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
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

  live = 0u;
  for (var p = 0u; p < SPANS; p++) {
    T[p] = 1.0;
    end[p] = range.x;
    done[p] = !inside_image(span_pixel(t, p, lane));
    live += select(1u, 0u, done[p]);
  }

  for (var b = range.x; b < range.y; b += CHECK_EVERY) {
    // Stop once no pixel of the tile is compositing.
#if SUBGROUPS
    if (subgroupAll(live == 0u)) { break; }
#else
    if (lane == 0u) { atomicStore(&s_live, 0u); }
    workgroupBarrier();
    atomicAdd(&s_live, live);
    workgroupBarrier();
    if (lane == 0u) { s_live_snapshot = atomicLoad(&s_live); }
    if (workgroupUniformLoad(&s_live_snapshot) == 0u) { break; }
#endif
    let last = min(range.y, b + CHECK_EVERY);
    for (var g = b; g < last; g += LANES) {
#if SUBGROUPS
      // By subgroup lane, so that shuffling from lane j hands out splat g + j.
      let mine = prepare(g + sg_lane, last, origin);
      for (var j = 0u; j < LANES; j++) {
        let s = Prepared(subgroupShuffle(mine.a, j), subgroupShuffle(mine.b, j), subgroupShuffle(mine.c, j),
                         subgroupShuffle(mine.rgb, j), subgroupShuffle(mine.normal, j));
        composite(s, origin, lane);
      }
#else
      let mine = prepare(g + lane, last, origin);
      workgroupBarrier();
      s_prepared[lane] = mine;
      workgroupBarrier();
      for (var j = 0u; j < LANES; j++) { composite(s_prepared[j], origin, lane); }
#endif
    }
  }

  let bg = frame.background.xyz;
  for (var p = 0u; p < SPANS; p++) {
    let px = span_pixel(t, p, lane);
    if (!inside_image(px)) { continue; }
    let pix = image_index(t, px);
    let c = rgb[p] + T[p] * bg;
    out_rgb[pix * 3u] = c.x;
    out_rgb[pix * 3u + 1u] = c.y;
    out_rgb[pix * 3u + 2u] = c.z;
    out_alpha[pix] = 1.0 - T[p];
    out_depth[pix] = depth[p];
    out_normal[pix * 3u] = normal[p].x;
    out_normal[pix * 3u + 1u] = normal[p].y;
    out_normal[pix * 3u + 2u] = normal[p].z;
    pixel_state[pix] = vec2<u32>(bitcast<u32>(T[p]), end[p]);
  }
}
