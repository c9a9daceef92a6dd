// Shared declarations of the splat renderer: the per-batch uniform (image size, options and
// up to 64 views), the layout of projected splats and of their screen-space gradients, and
// the constants of rasterizers.md §1 (mirrored in src/render/splat/constants.ts).

#include "lib/quaternion.wgsl"

const TILE: u32 = 16u;
const ALPHA_MIN: f32 = 0.00392156862745098; // 1 / 255
const ALPHA_MAX: f32 = 0.999;
const T_MIN: f32 = 1e-4;
const FRUSTUM_MARGIN: f32 = 0.15;
const MAX_VIEWS: u32 = 64u;
// Margin on the sigma cutoff ln(255 * opacity) used to skip the exp; the exact alpha test
// still decides, so rounding near the cutoff cannot change which splats are used.
const SKIP_MARGIN: f32 = 1e-3;

struct View {
  r0: vec4<f32>, // row 0 of the world-to-camera matrix (R | t)
  r1: vec4<f32>,
  r2: vec4<f32>,
  intr: vec4<f32>, // fx, fy, cx, cy
  campos: vec4<f32>, // camera centre in world space
}

struct Frame {
  num_views: u32,
  num_splats: u32,
  width: u32,
  height: u32,
  tiles_x: u32,
  tiles_y: u32,
  sh_degree: u32,
  sh_coeffs: u32, // coefficients per splat in the sh buffer
  near: f32,
  far: f32,
  eps2d: f32,
  antialiased: u32,
  background: vec4<f32>,
  num_isects: u32,
  // The renderer may split a batch's views into chunks, each with its own uniform: images
  // and pixel state are indexed by view_base + view over total_views.
  view_base: u32,
  total_views: u32,
  // Splats whose SH coefficients sit in the first of two SH bindings (SH_SPLIT kernels).
  sh_split: u32,
  // Visible (view, splat) pairs, the length of the depth-sorted list (written, as
  // num_isects, once known).
  num_visible: u32,
  views: array<View, MAX_VIEWS>,
}

// Projected splat, 4 vec4<u32> per (view, splat), f32 bits except the tile corners:
//   [0] mean2d.x, mean2d.y, opacity (after compensation), camera z
//   [1] conic a, b, c, antialias compensation
//   [2] r, g, b, tile rect low corner (x | y << 16)
//   [3] normal x, y, z, tile rect high corner, exclusive (x | y << 16)
// Screen-space gradient, 16 f32 per (view, splat), the same slots:
//   [0..3] d mean2d.x, d mean2d.y, d opacity, d z
//   [4..7] d conic a, b, c, 0
//   [8..11] d r, g, b, |d mean2d.x| summed per pixel (absgrad)
//   [12..15] d normal x, y, z, |d mean2d.y| summed per pixel
const PROJ_STRIDE: u32 = 4u;
const GRAD_STRIDE: u32 = 16u;

fn is_finite_f32(x: f32) -> bool {
  return (bitcast<u32>(x) & 0x7f800000u) != 0x7f800000u;
}

fn view_rotation(v: View) -> mat3x3<f32> {
  return transpose(mat3x3<f32>(v.r0.xyz, v.r1.xyz, v.r2.xyz));
}

fn view_translation(v: View) -> vec3<f32> {
  return vec3<f32>(v.r0.w, v.r1.w, v.r2.w);
}

fn sigmoid(x: f32) -> f32 {
  return 1.0 / (1.0 + exp(-x));
}
