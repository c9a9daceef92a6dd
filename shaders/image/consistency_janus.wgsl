// Janus (multi-face) sums for roughly opposite views (src/rewards/consistency.ts; reference
// janusRef in src/reference/rewards/consistency.ts). The similarity is symmetric in a and b,
// so each unordered pair comes once and counts for both views. Each pixel x of a is
// paired with pixel x of b (as is) and with its mirror W - 1 - x (mirrored), with weight
// w = m_a(x) m_b(x'), m = sigmoid((alpha - solid) / softness) * sigmoid(-(N . d) / FACING_SCALE):
// surface that faces away from the other camera, i.e. that the other view cannot see (a top
// face both views see may look alike without being a duplicated front).
//   janus_fwd: one workgroup per pair; 16 sums, [n, sa, sb, saa, sbb, sab, sc, 0] of w times
//     (1, grey a, grey b, squares, product, chromaticity L1) as is, then mirrored. The
//     normalised cross-correlation and its damping are computed from them on the CPU
//     (src/rewards/consistency-combine.ts); chromaticity (colour / its sum) ignores shading.
//   janus_bwd: one invocation per pair and pixel of a; takes d total / d(sums) and adds the
//     gradient w.r.t. both pixels' rgb, alpha and normal with float atomics.
#include "lib/dispatch.wgsl"
#include "lib/smooth.wgsl"

struct Params { width: u32, height: u32, pairs: u32, total: u32, solid: f32, softness: f32, views: u32, _p0: u32 }
@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> pairs: array<u32>;
@group(0) @binding(2) var<storage, read> rgb: array<f32>;
@group(0) @binding(3) var<storage, read> alpha: array<f32>;
@group(0) @binding(4) var<storage, read> normal: array<f32>;
@group(0) @binding(5) var<storage, read> dirs: array<vec4<f32>>;
#if JANUS_FWD
@group(0) @binding(6) var<storage, read_write> sums: array<vec4<f32>>;
#else
#include "lib/atomic_float.wgsl"
@group(0) @binding(6) var<storage, read> coefs: array<vec4<f32>>;
// [rgb 3VP | alpha VP | depth VP | normal 3VP], as in consistency_reproject.wgsl.
@group(0) @binding(7) var<storage, read_write> grads: array<atomic<u32>>;
#endif

const FACING_SCALE: f32 = 0.02;
const CHROMA_OFFSET: f32 = 0.02;

fn pix(v: u32, x: u32, y: u32) -> u32 { return (v * params.height + y) * params.width + x; }
fn colour(p: u32) -> vec3<f32> { return vec3<f32>(rgb[p * 3u], rgb[p * 3u + 1u], rgb[p * 3u + 2u]); }
fn grey(c: vec3<f32>) -> f32 { return (c.x + c.y + c.z) / 3.0; }
fn chroma_sum(c: vec3<f32>) -> f32 { return c.x + c.y + c.z + 3.0 * CHROMA_OFFSET; }
fn chroma(c: vec3<f32>) -> vec3<f32> { return (c + vec3<f32>(CHROMA_OFFSET)) / chroma_sum(c); }
fn chroma_l1(a: vec3<f32>, b: vec3<f32>) -> f32 {
  let d = chroma(a) - chroma(b);
  return charbonnier(d.x) + charbonnier(d.y) + charbonnier(d.z);
}

// Weight of pixel p as surface hidden from `other`: (weight, d/d alpha), d/d normal below.
struct Hidden { m: f32, d_alpha: f32, d_normal: vec3<f32> }

fn hidden(p: u32, other: u32) -> Hidden {
  let d = dirs[other].xyz;
  let sa = sigmoid((alpha[p] - params.solid) / params.softness);
  let sf = sigmoid(-dot(vec3<f32>(normal[p * 3u], normal[p * 3u + 1u], normal[p * 3u + 2u]), d) / FACING_SCALE);
  return Hidden(sa * sf, sa * (1.0 - sa) * sf / params.softness, -sa * sf * (1.0 - sf) / FACING_SCALE * d);
}

#if JANUS_FWD
var<workgroup> part: array<array<vec4<f32>, 4>, 64>;

@compute @workgroup_size(64)
fn janus_fwd(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
             @builtin(local_invocation_index) lid: u32) {
  let pair = linear_workgroup(wid, nwg);
  // `pair` is uniform over the workgroup, so the early exit keeps barriers uniform.
  if (pair >= params.pairs) { return; }
  let a = pairs[pair * 2u];
  let b = pairs[pair * 2u + 1u];
  var acc: array<vec4<f32>, 4>;
  let per = params.width * params.height;
  for (var p = lid; p < per; p += 64u) {
    let x = p % params.width;
    let y = p / params.width;
    let pa = pix(a, x, y);
    let ma = hidden(pa, b).m;
    let ca = colour(pa);
    let ga = grey(ca);
    for (var k = 0u; k < 2u; k++) {
      let pb = select(pix(b, x, y), pix(b, params.width - 1u - x, y), k == 1u);
      let w = ma * hidden(pb, a).m;
      let cb = colour(pb);
      let gb = grey(cb);
      acc[2u * k] += w * vec4<f32>(1.0, ga, gb, ga * ga);
      acc[2u * k + 1u] += w * vec4<f32>(gb * gb, ga * gb, chroma_l1(ca, cb), 0.0);
    }
  }
  part[lid] = acc;
  workgroupBarrier();
  for (var s = 32u; s > 0u; s >>= 1u) {
    if (lid < s) {
      for (var q = 0u; q < 4u; q++) { part[lid][q] += part[lid + s][q]; }
    }
    workgroupBarrier();
  }
  if (lid == 0u) {
    for (var q = 0u; q < 4u; q++) { sums[pair * 4u + q] = part[0][q]; }
  }
}
#else
fn add(i: u32, v: f32) { atomic_add_f32(&grads[i], v); }

// d chroma_l1 / d (colour of a) given e = charbonnier' of the chromaticity differences:
// chroma c_q = (C_q + k) / S, d c_q / d C_r = (delta_qr - c_q) / S.
fn chroma_back(e: vec3<f32>, c: vec3<f32>) -> vec3<f32> {
  return (e - vec3<f32>(dot(e, chroma(c)))) / chroma_sum(c);
}

fn add_pixel(p: u32, d_rgb: vec3<f32>, d_m: f32, h: Hidden) {
  let vp = params.views * params.width * params.height;
  for (var c = 0u; c < 3u; c++) {
    add(p * 3u + c, d_rgb[c]);
    add(5u * vp + p * 3u + c, d_m * h.d_normal[c]);
  }
  add(3u * vp + p, d_m * h.d_alpha);
}

@compute @workgroup_size(256)
fn janus_bwd(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
             @builtin(local_invocation_index) lid: u32) {
  let id = linear_invocation(wid, nwg, lid, 256u);
  if (id >= params.total) { return; }
  let per = params.width * params.height;
  let pair = id / per;
  let a = pairs[pair * 2u];
  let b = pairs[pair * 2u + 1u];
  let x = (id % per) % params.width;
  let y = (id % per) / params.width;
  let pa = pix(a, x, y);
  let ha = hidden(pa, b);
  let ca = colour(pa);
  let ga = grey(ca);
  var d_ma = 0.0;
  var d_ca = vec3<f32>(0.0);
  for (var k = 0u; k < 2u; k++) {
    let pb = select(pix(b, x, y), pix(b, params.width - 1u - x, y), k == 1u);
    let hb = hidden(pb, a);
    let cb = colour(pb);
    let gb = grey(cb);
    let g0 = coefs[pair * 4u + 2u * k];
    let g1 = coefs[pair * 4u + 2u * k + 1u];
    let dch = chroma(ca) - chroma(cb);
    let chi = charbonnier(dch.x) + charbonnier(dch.y) + charbonnier(dch.z);
    let e = vec3<f32>(charbonnier_grad(dch.x), charbonnier_grad(dch.y), charbonnier_grad(dch.z));
    let w = ha.m * hb.m;
    let d_w = g0.x + g0.y * ga + g0.z * gb + g0.w * ga * ga + g1.x * gb * gb + g1.y * ga * gb + g1.z * chi;
    let d_ga = w * (g0.y + 2.0 * g0.w * ga + g1.y * gb);
    let d_gb = w * (g0.z + 2.0 * g1.x * gb + g1.y * ga);
    let d_chi = w * g1.z;
    d_ma += d_w * hb.m;
    d_ca += vec3<f32>(d_ga / 3.0) + d_chi * chroma_back(e, ca);
    add_pixel(pb, vec3<f32>(d_gb / 3.0) - d_chi * chroma_back(e, cb), d_w * ha.m, hb);
  }
  add_pixel(pa, d_ca, d_ma, ha);
}
#endif
