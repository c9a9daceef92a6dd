// Shared by distortion_fwd and distortion_bwd: the depth mapping of the 2DGS distortion and
// the preparation of a splat of the tile list, as rasterize_fwd does it (see there why), in
// the tile layout of tile_lanes.wgsl.
// Kernels including this bind `frame`, `params`, `isect_ids` and `projected`.
#include "splat/common.wgsl"
#include "splat/tile_lanes.wgsl"
#include "splat/tile_cull.wgsl"

// m(z) = a (1 - n / z), a = f / (f - n): depth mapped to [0, 1) over [n, f) (NDC-like).
struct DistortionParams {
  a: f32,
  n: f32,
  pad0: f32,
  pad1: f32,
}

fn distortion_depth(p: DistortionParams, z: f32) -> f32 {
  return p.a * (1.0 - p.n / z);
}

fn distortion_depth_slope(p: DistortionParams, z: f32) -> f32 {
  return p.a * p.n / (z * z);
}

// A splat of the tile's list with everything a span reads (a load inside a span is a
// per-lane gather on lavapipe).
struct Prepared {
  a: vec4<f32>, // mean2d.xy, opacity, m(z)
  b: vec4<f32>, // conic a, b, c; sigma above which alpha < 1/255 (with the skip margin)
  c: vec4<u32>, // (distortion_bwd: grad2d prefetch), spans the splat can reach (bit p), (view, splat) id, list index + 1 (0: none)
  slope: f32, // dm/dz
}

// Splat k of the list (none when `valid` is false) and the spans of the tile its alpha can
// reach (within the ellipse's rows, the exact test of tile_cull.wgsl, as rasterize_fwd).
fn prepare_splat(k: u32, valid: bool, origin: vec2<f32>) -> Prepared {
  var r: Prepared;
  if (!valid) { return r; }
  let id = isect_ids[k];
  let base = id * PROJ_STRIDE;
  let xy_op_z = bitcast<vec4<f32>>(projected[base]);
  let conic = bitcast<vec4<f32>>(projected[base + 1u]).xyz;
  let spans = reachable_spans(xy_op_z.xy, conic, cull_threshold(xy_op_z.z), origin);
  r.a = vec4<f32>(xy_op_z.xyz, distortion_depth(params, xy_op_z.w));
  r.b = vec4<f32>(conic, log(255.0 * xy_op_z.z) + SKIP_MARGIN);
  r.c = vec4<u32>(0u, spans, id, k + 1u);
  r.slope = distortion_depth_slope(params, xy_op_z.w);
  return r;
}
