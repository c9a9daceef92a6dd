// Shared by distortion_fwd and distortion_bwd: the depth mapping of the 2DGS distortion and
// the replay of one splat's alpha at a pixel, written exactly as rasterize_fwd computes it
// so that the replay composites the same splats with the same weights.
#include "splat/common.wgsl"

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

// The splat's loaded form: xy_op_z = (mean2d, opacity, z), conic4 = (conic, sigma cutoff).
fn load_conic4(conic_comp: vec4<f32>, op: f32) -> vec4<f32> {
  return vec4<f32>(conic_comp.xyz, log(255.0 * op) + SKIP_MARGIN);
}

struct Hit {
  used: bool,
  alpha: f32,
  // exp(-sigma); 0 when alpha was clamped at ALPHA_MAX (no gradient through the Gaussian).
  G: f32,
  d: vec2<f32>,
}

fn splat_hit(xy_op_z: vec4<f32>, conic4: vec4<f32>, pixel: vec2<f32>) -> Hit {
  var h: Hit;
  let conic = conic4.xyz;
  let d = xy_op_z.xy - pixel;
  let sigma = 0.5 * (conic.x * d.x * d.x + conic.z * d.y * d.y) + conic.y * d.x * d.y;
  if (sigma > conic4.w) { return h; }
  let G = exp(-sigma);
  let raw_alpha = xy_op_z.z * G;
  let alpha = min(ALPHA_MAX, raw_alpha);
  if (sigma < 0.0 || alpha < ALPHA_MIN) { return h; }
  h.used = true;
  h.alpha = alpha;
  h.G = select(0.0, G, raw_alpha <= ALPHA_MAX);
  h.d = d;
  return h;
}
