// Shared by distortion_fwd and distortion_bwd: the depth mapping of the 2DGS distortion and
// the tile layout they share with rasterize_fwd/bwd (one workgroup of 8 lanes per (view,
// tile); lane l owns pixel l of each of the 32 eight-pixel half-rows, the spans).
#include "splat/common.wgsl"
#include "splat/tile_cull.wgsl"

const LANES: u32 = 8u;
const SPANS: u32 = 32u; // TILE * TILE / LANES

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

fn span_pixel(tx: u32, ty: u32, p: u32, lane: u32) -> vec2<u32> {
  return vec2<u32>(tx * TILE + (p % 2u) * LANES + lane, ty * TILE + p / 2u);
}

// One splat at one pixel, exactly as rasterize_fwd tests it, so that the replay composites
// the same splats with the same weights.
struct Hit {
  used: bool,
  alpha: f32,
  // exp(-sigma); 0 when alpha was clamped at ALPHA_MAX (no gradient through the Gaussian).
  G: f32,
  d: vec2<f32>,
}

fn splat_hit(mean: vec2<f32>, conic: vec3<f32>, opacity: f32, skip: f32, pixel: vec2<f32>) -> Hit {
  var h: Hit;
  let d = mean - pixel;
  let sigma = 0.5 * (conic.x * d.x * d.x + conic.z * d.y * d.y) + conic.y * d.x * d.y;
  if (sigma > skip) { return h; }
  let G = exp(-sigma);
  let raw_alpha = opacity * G;
  let alpha = min(ALPHA_MAX, raw_alpha);
  if (sigma < 0.0 || alpha < ALPHA_MIN) { return h; }
  h.used = true;
  h.alpha = alpha;
  h.G = select(0.0, G, raw_alpha <= ALPHA_MAX);
  h.d = d;
  return h;
}

// The tile rows [x, y) a splat's alpha can reach (tile_cull.wgsl).
fn splat_rows(mean: vec2<f32>, conic: vec3<f32>, thr: f32, origin: vec2<f32>) -> vec2<u32> {
  let ext = ellipse_extent(conic, thr);
  let row0 = u32(clamp(ceil(mean.y - ext.y - 0.5 - origin.y), 0.0, f32(TILE)));
  let row1 = u32(clamp(floor(mean.y + ext.y - 0.5 - origin.y) + 1.0, 0.0, f32(TILE)));
  return vec2<u32>(row0, row1);
}
