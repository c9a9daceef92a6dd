#if SUBGROUPS
enable subgroups;
// The workgroup is one subgroup and the early-exit check sits in the uniform batch loop;
// the analysis loses track of that after the per-pixel continues of the inner loops.
diagnostic(off, subgroup_uniformity);
#endif
// rasterize_fwd: one workgroup of 8 lanes per (view, tile); lane l owns the pixels l, l + 8,
// ... of the tile, one in each of the 32 eight-pixel half-rows (spans). The tile's
// depth-sorted splats are read in order; each splat visits only the spans its alpha can
// reach (tile_cull.wgsl), where each pixel composites front to back (rasterizers.md §1.4).
// Every 32 splats the workgroup stops if all its pixels are done. Per pixel it keeps the
// final transmittance and the end of the splats it used, for rasterize_bwd.
#include "lib/dispatch.wgsl"
#include "splat/common.wgsl"
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

const LANES: u32 = 8u;
const SPANS: u32 = 32u; // TILE * TILE / LANES
const CHECK_EVERY: u32 = 32u;

var<workgroup> s_range: vec2<u32>;
var<workgroup> s_live: atomic<u32>;
var<workgroup> s_live_snapshot: u32;

@compute @workgroup_size(8)
fn rasterize_fwd(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
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
  var rgb: array<vec3<f32>, SPANS>;
  var depth: array<f32, SPANS>;
  var normal: array<vec3<f32>, SPANS>;
  var end: array<u32, SPANS>;
  var done: array<bool, SPANS>;
  var live = 0u; // pixels of this lane still compositing
  for (var p = 0u; p < SPANS; p++) {
    T[p] = 1.0;
    end[p] = range.x;
    let px = tx * TILE + (p % 2u) * LANES + lane;
    let py = ty * TILE + p / 2u;
    done[p] = px >= frame.width || py >= frame.height;
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
    for (var k = b; k < last; k++) {
      let base = isect_ids[k] * PROJ_STRIDE;
      let xy_op_z = bitcast<vec4<f32>>(projected[base]);
      let conic = bitcast<vec4<f32>>(projected[base + 1u]).xyz;
      let mean = xy_op_z.xy;
      let opacity = xy_op_z.z;
      let skip = log(255.0 * opacity) + SKIP_MARGIN;
      let thr = cull_threshold(opacity);
      let ext = ellipse_extent(conic, thr);
      let row0 = u32(clamp(ceil(mean.y - ext.y - 0.5 - origin.y), 0.0, f32(TILE)));
      let row1 = u32(clamp(floor(mean.y + ext.y - 0.5 - origin.y) + 1.0, 0.0, f32(TILE)));
      for (var row = row0; row < row1; row++) {
        let yc = origin.y + f32(row) + 0.5;
        for (var h = 0u; h < 2u; h++) {
          let x0 = origin.x + f32(h * LANES) + 0.5;
          if (row_min_sigma(mean, conic, yc, x0, x0 + f32(LANES - 1u)) > thr) { continue; }
          let p = row * 2u + h;
          if (done[p]) { continue; }
          let d = mean - vec2<f32>(x0 + f32(lane), yc);
          let sigma = 0.5 * (conic.x * d.x * d.x + conic.z * d.y * d.y) + conic.y * d.x * d.y;
          if (sigma > skip) { continue; }
          let alpha = min(ALPHA_MAX, opacity * exp(-sigma));
          if (sigma < 0.0 || alpha < ALPHA_MIN) { continue; }
          let next_T = T[p] * (1.0 - alpha);
          if (next_T <= T_MIN) {
            done[p] = true;
            live -= 1u;
            continue;
          }
          let w = alpha * T[p];
          rgb[p] += bitcast<vec4<f32>>(projected[base + 2u]).xyz * w;
          depth[p] += xy_op_z.w * w;
          normal[p] += bitcast<vec4<f32>>(projected[base + 3u]).xyz * w;
          T[p] = next_T;
          end[p] = k + 1u;
        }
      }
    }
  }

  let bg = frame.background.xyz;
  for (var p = 0u; p < SPANS; p++) {
    let px = tx * TILE + (p % 2u) * LANES + lane;
    let py = ty * TILE + p / 2u;
    if (px >= frame.width || py >= frame.height) { continue; }
    let pix = ((frame.view_base + view) * frame.height + py) * frame.width + px;
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
