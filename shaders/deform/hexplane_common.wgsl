// Shared by the HexPlane kernels: the uniform block, normalised coordinates and the bilinear
// taps of plane p (xy, xz, yz, xt, yt, zt) at level l. Planes are [height][width][features]
// with the plane's first axis along the width; corners are clamped so that u = 1 lands on
// the last cell (as grid_sample with align_corners).

const MAX_INPUTS: u32 = 64u;
const MAX_HIDDEN: u32 = 64u;
const OUTPUTS: u32 = 14u;

struct HexParams {
  count: u32,
  levels: u32,
  features: u32,
  hidden: u32,
  heads: u32,       // bit 0: opacity head, bit 1: colour head
  time_res: u32,
  mlp_floats: u32,
  _pad0: u32,
  bmin: vec4<f32>,  // xyz bounds min, w = t0
  bmax: vec4<f32>,  // xyz bounds max, w = t1
  misc: vec4<f32>,  // x = time
  res: vec4<u32>,   // spatial resolution per level
  plane_off: array<vec4<u32>, 6>,  // float offset of plane (l * 6 + p)
  mlp_off: vec4<u32>,              // w1, b1, w2, b2
}

struct Tap {
  i00: u32,
  i10: u32,
  i01: u32,
  i11: u32,
  fa: f32,
  fb: f32,
  // d(grid coordinate)/d(world coordinate) along the two axes; 0 for time or where clamped.
  sa: f32,
  sb: f32,
  axis_a: u32,
  axis_b: u32,
}

fn hp_axis_a(p: u32) -> u32 {
  var a = array<u32, 6>(0u, 0u, 1u, 0u, 1u, 2u);
  return a[p];
}

fn hp_axis_b(p: u32) -> u32 {
  var b = array<u32, 6>(1u, 2u, 2u, 3u, 3u, 3u);
  return b[p];
}

fn hp_axis_res(l: u32, axis: u32) -> u32 {
  if (axis == 3u) { return H.time_res; }
  return H.res[l];
}

fn hp_plane_offset(l: u32, p: u32) -> u32 {
  let k = l * 6u + p;
  return H.plane_off[k / 4u][k % 4u];
}

// Normalised (x, y, z, t) in [0, 1] (clamped) in .u, and du/dworld (0 where clamped) in .du.
struct Coords {
  u: vec4<f32>,
  du: vec4<f32>,
}

fn hp_coords(m: vec3<f32>) -> Coords {
  let p = vec4<f32>(m, H.misc.x);
  let ext = H.bmax - H.bmin;
  let raw = (p - H.bmin) / ext;
  let u = clamp(raw, vec4<f32>(0.0), vec4<f32>(1.0));
  let inside = (raw >= vec4<f32>(0.0)) & (raw <= vec4<f32>(1.0));
  let du = select(vec4<f32>(0.0), vec4<f32>(1.0) / ext, inside);
  return Coords(u, du);
}

fn hp_tap(l: u32, p: u32, c: Coords) -> Tap {
  let a = hp_axis_a(p);
  let b = hp_axis_b(p);
  let w = hp_axis_res(l, a);
  let h = hp_axis_res(l, b);
  let ga = c.u[a] * f32(w - 1u);
  let gb = c.u[b] * f32(h - 1u);
  let ia = min(u32(floor(ga)), w - 2u);
  let ib = min(u32(floor(gb)), h - 2u);
  let base = hp_plane_offset(l, p);
  let F = H.features;
  var t: Tap;
  t.i00 = base + (ib * w + ia) * F;
  t.i10 = t.i00 + F;
  t.i01 = t.i00 + w * F;
  t.i11 = t.i01 + F;
  t.fa = ga - f32(ia);
  t.fb = gb - f32(ib);
  t.sa = select(0.0, c.du[a] * f32(w - 1u), a < 3u);
  t.sb = select(0.0, c.du[b] * f32(h - 1u), b < 3u);
  t.axis_a = a;
  t.axis_b = b;
  return t;
}

fn hp_head_enabled(o: u32) -> bool {
  if (o < 10u) { return true; }
  if (o == 10u) { return (H.heads & 1u) != 0u; }
  return (H.heads & 2u) != 0u;
}
