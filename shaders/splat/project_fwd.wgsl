// project_fwd: for each (view, splat), projects the splat, evaluates its SH colour,
// camera depth and normal, and the tile rectangle that holds every pixel where its alpha can
// reach 1/255 (opacity-aware extent, rasterizers.md §1.2); culled splats touch no tile. The
// radius and visibility follow the rectangle; the tile count is that of the rectangle's tiles
// the ellipse itself reaches (tile_cull.wgsl), which bin_emit emits.
#include "lib/dispatch.wgsl"
#include "splat/geometry.wgsl"
#include "splat/sh.wgsl"
#include "splat/tile_cull.wgsl"

@group(0) @binding(0) var<uniform> frame: Frame;
@group(0) @binding(1) var<storage, read> means: array<f32>;
@group(0) @binding(2) var<storage, read> log_scales: array<f32>;
@group(0) @binding(3) var<storage, read> quats: array<f32>;
@group(0) @binding(4) var<storage, read> opacity_logits: array<f32>;
@group(0) @binding(5) var<storage, read> sh: array<f32>;
@group(0) @binding(6) var<storage, read_write> projected: array<vec4<u32>>; // f32 bits, see common.wgsl
@group(0) @binding(7) var<storage, read_write> tile_counts: array<u32>;
@group(0) @binding(8) var<storage, read_write> radii: array<u32>;
#if SH_SPLIT
// Splats from frame.sh_split on: the second range of an SH buffer over the binding limit.
@group(0) @binding(9) var<storage, read> sh_hi: array<f32>;
#endif
#include "splat/sh_load.wgsl"

// One invocation per splat, looping over the views: the parameter and SH loads and the
// view-independent geometry (splat_local) are done once rather than once per view.
@compute @workgroup_size(64)
fn project_fwd(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
               @builtin(local_invocation_index) lid: u32) {
  let i = linear_invocation(wid, nwg, lid, 64u);
  let n = frame.num_splats;
  if (i >= n) { return; }
  let mean = vec3<f32>(means[i * 3u], means[i * 3u + 1u], means[i * 3u + 2u]);
  let log_scale = vec3<f32>(log_scales[i * 3u], log_scales[i * 3u + 1u], log_scales[i * 3u + 2u]);
  let quat = vec4<f32>(quats[i * 4u], quats[i * 4u + 1u], quats[i * 4u + 2u], quats[i * 4u + 3u]);
  let local = splat_local(log_scale, quat, opacity_logits[i]);
  let degree = frame.sh_degree;
  let c = load_sh(i, degree);
  for (var v = 0u; v < frame.num_views; v++) {
    project_view(v, i, v * n + i, mean, local, c, degree);
  }
}

fn project_view(v: u32, i: u32, idx: u32, mean: vec3<f32>, local: SplatLocal, c: array<vec3<f32>, 16>, degree: u32) {
  let view = frame.views[v];
  let g = splat_geometry_in(view, mean, local);
  var count = 0u;
  var radius = 0u;
  var lo = 0u;
  var hi = 0u;
  if (!g.culled) {
    let extend = sqrt(2.0 * log(255.0 * g.opacity));
    let rx = ceil(extend * sqrt(g.covb.x));
    let ry = ceil(extend * sqrt(g.covb.z));
    let tiles = vec2<f32>(f32(frame.tiles_x), f32(frame.tiles_y));
    let tile = f32(TILE);
    let t0 = clamp(floor((g.mean2d - vec2<f32>(rx, ry)) / tile), vec2<f32>(0.0), tiles);
    let t1 = clamp(floor((g.mean2d + vec2<f32>(rx, ry)) / tile) + 1.0, vec2<f32>(0.0), tiles);
    if (t1.x > t0.x && t1.y > t0.y) {
      let a = vec2<u32>(t0);
      let b = vec2<u32>(t1);
      let thr = cull_threshold(g.opacity);
      for (var ty = a.y; ty < b.y; ty++) {
        for (var tx = a.x; tx < b.x; tx++) {
          if (tile_touched(g.mean2d, g.conic, thr, tx, ty)) { count++; }
        }
      }
      radius = u32(min(max(rx, ry), 4294967040.0));
      lo = a.x | (a.y << 16u);
      hi = b.x | (b.y << 16u);
    }
  }
  tile_counts[idx] = count;
  radii[idx] = radius;
  let base = idx * PROJ_STRIDE;
  if (radius == 0u) {
    projected[base] = vec4<u32>(0u);
    projected[base + 1u] = vec4<u32>(0u);
    projected[base + 2u] = vec4<u32>(0u);
    projected[base + 3u] = vec4<u32>(0u);
    return;
  }
  // Colour: rgb = max(SH(dir) + 0.5, 0), dir from the camera centre to the mean.
  let dir = normalize(mean - view.campos.xyz);
  let rgb = max(sh_rgb(c, degree, dir), vec3<f32>(0.0));
  // select, not rq[axis]: a variable index into a private matrix becomes a slow gather on lavapipe.
  let axis_dir = select(select(g.rq[2], g.rq[1], g.axis == 1u), g.rq[0], g.axis == 0u);
  let normal = g.normal_sign * axis_dir;
  // Stored as u32 so that the packed tile corners are never touched by float handling.
  projected[base] = bitcast<vec4<u32>>(vec4<f32>(g.mean2d, g.opacity, g.pc.z));
  projected[base + 1u] = bitcast<vec4<u32>>(vec4<f32>(g.conic, g.comp));
  projected[base + 2u] = vec4<u32>(bitcast<vec3<u32>>(rgb), lo);
  projected[base + 3u] = vec4<u32>(bitcast<vec3<u32>>(normal), hi);
}
