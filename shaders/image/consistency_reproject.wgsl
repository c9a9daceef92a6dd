// Reprojection consistency between neighbouring views (src/rewards/consistency.ts; reference
// reprojectPixelRef in src/reference/rewards/consistency.ts). One invocation per
// (view i, neighbour j) pair and pixel of i:
//   the surface point z = depth / alpha of i's pixel is moved into j's camera and j's alpha,
//   depth and rgb are sampled there bilinearly; with a_i, a_j the alpha sigmoids,
//   vis = sigmoid((tau - rel) / (tau / 2)) for the relative depth rel = 1 - z_j / q.z (points
//   hidden behind j's surface fade out) and ws = a_j * vis, the record is
//   a_i * [ws * ep, ws, ws * eg + (1 - a_j), ws + (1 - a_j)]
//   with ep the Charbonnier colour error and eg = 1 - exp(-charbonnier(rel)); j seeing
//   background where i sees surface counts as geometric error 1.
//   a_i fades to 0 over the outermost pixel of j's frame (smoothstep), so points leaving the
//   frame fade out too. Hard cuts: source alpha <= ALPHA_MIN (a jump of at most
//   sigmoid((0.01 - solid) / softness) per record), behind camera j, outside j's frame (both
//   continuous, the fade being 0 there).
// reproject_fwd writes the records (summed per pair by reduce_rows); reproject_bwd takes
// d total / d(pair sums) and adds each record's gradient to the images with float atomics:
// the four taps of a sample land anywhere in j, so there is nothing to reduce first.
#include "lib/dispatch.wgsl"
#include "lib/smooth.wgsl"

struct Params { width: u32, height: u32, pairs: u32, total: u32, tau: f32, solid: f32, softness: f32, views: u32 }
@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> pairs: array<u32>;
@group(0) @binding(2) var<storage, read> cams: array<f32>;
@group(0) @binding(3) var<storage, read> rgb: array<f32>;
@group(0) @binding(4) var<storage, read> alpha: array<f32>;
@group(0) @binding(5) var<storage, read> depth: array<f32>;
#if REPROJECT_FWD
@group(0) @binding(6) var<storage, read_write> records: array<vec4<f32>>;
#else
#include "lib/atomic_float.wgsl"
@group(0) @binding(6) var<storage, read> coefs: array<vec4<f32>>;
// [rgb 3VP | alpha VP | depth VP | normal 3VP], copied into the cotangent buffers afterwards.
@group(0) @binding(7) var<storage, read_write> grads: array<atomic<u32>>;
#endif

const ALPHA_MIN: f32 = 0.01;

fn pix(v: u32, x: u32, y: u32) -> u32 { return (v * params.height + y) * params.width + x; }

fn rot(v: u32, r: u32) -> vec3<f32> {
  let c = v * 16u + 4u + 4u * r;
  return vec3<f32>(cams[c], cams[c + 1u], cams[c + 2u]);
}
fn trans(v: u32) -> vec3<f32> {
  let c = v * 16u + 4u;
  return vec3<f32>(cams[c + 3u], cams[c + 7u], cams[c + 11u]);
}
fn to_world(v: u32, p: vec3<f32>) -> vec3<f32> { return p.x * rot(v, 0u) + p.y * rot(v, 1u) + p.z * rot(v, 2u); }
fn to_cam(v: u32, w: vec3<f32>) -> vec3<f32> { return vec3<f32>(dot(rot(v, 0u), w), dot(rot(v, 1u), w), dot(rot(v, 2u), w)); }
fn colour(p: u32) -> vec3<f32> { return vec3<f32>(rgb[p * 3u], rgb[p * 3u + 1u], rgb[p * 3u + 2u]); }

// Everything the backward pass needs about one record.
struct Hit {
  ok: bool,
  j: u32,
  src: u32,
  o: f32,
  a_s: f32,         // the source's alpha sigmoid
  fade: vec4<f32>,  // smoothsteps of the distances to j's frame edges (u, W-1-u, v, H-1-v)
  a_i: f32,         // a_s times the frame fade
  dir: vec3<f32>,   // d q / d z
  q: vec3<f32>,     // the source point in j's camera frame
  taps: vec4<u32>,  // (x0, y0), (x1, y0), (x0, y1), (x1, y1) in j
  f: vec2<f32>,     // bilinear fractions
  o_j: f32,
  d_j: f32,
  c_i: vec3<f32>,
  c_j: vec3<f32>,
  a_j: f32,
  z_j: f32,
  rel: f32,
  vis: f32,
  ep: f32,
  eg: f32,
}

fn lerp4(s: vec4<f32>, f: vec2<f32>) -> f32 { return mix(mix(s.x, s.y, f.x), mix(s.z, s.w, f.x), f.y); }
// d lerp4 / d (fu, fv).
fn lerp4_grad(s: vec4<f32>, f: vec2<f32>) -> vec2<f32> {
  return vec2<f32>(mix(s.y - s.x, s.w - s.z, f.y), mix(s.z - s.x, s.w - s.y, f.x));
}
fn tap_alpha(t: vec4<u32>) -> vec4<f32> { return vec4<f32>(alpha[t.x], alpha[t.y], alpha[t.z], alpha[t.w]); }
fn tap_depth(t: vec4<u32>) -> vec4<f32> { return vec4<f32>(depth[t.x], depth[t.y], depth[t.z], depth[t.w]); }
fn tap_rgb(t: vec4<u32>, c: u32) -> vec4<f32> {
  return vec4<f32>(rgb[t.x * 3u + c], rgb[t.y * 3u + c], rgb[t.z * 3u + c], rgb[t.w * 3u + c]);
}

fn reproject(id: u32) -> Hit {
  var h: Hit;
  h.ok = false;
  let per = params.width * params.height;
  let pair = id / per;
  let i = pairs[pair * 2u];
  let j = pairs[pair * 2u + 1u];
  let x = (id % per) % params.width;
  let y = (id % per) / params.width;
  h.j = j;
  h.src = pix(i, x, y);
  h.o = alpha[h.src];
  if (h.o <= ALPHA_MIN) { return h; }
  h.a_s = sigmoid((h.o - params.solid) / params.softness);
  let z = depth[h.src] / h.o;
  let ci = i * 16u;
  let ray = vec3<f32>((f32(x) + 0.5 - cams[ci + 2u]) / cams[ci], (f32(y) + 0.5 - cams[ci + 3u]) / cams[ci + 1u], 1.0);
  // q = R_j R_i^T (z ray - t_i) + t_j
  h.dir = to_cam(j, to_world(i, ray));
  h.q = to_cam(j, to_world(i, -trans(i))) + trans(j) + z * h.dir;
  if (h.q.z <= 1e-6) { return h; }
  let cj = j * 16u;
  // Coordinates on the grid of pixel centres (which sit at integer + 0.5).
  let u = cams[cj] * h.q.x / h.q.z + cams[cj + 2u] - 0.5;
  let v = cams[cj + 1u] * h.q.y / h.q.z + cams[cj + 3u] - 0.5;
  if (!(u >= 0.0 && v >= 0.0 && u <= f32(params.width - 1u) && v <= f32(params.height - 1u))) { return h; }
  // The weight fades to 0 over the outermost pixel of j's frame, so leaving the frame is smooth.
  h.fade = vec4<f32>(u, f32(params.width - 1u) - u, v, f32(params.height - 1u) - v);
  let fs = smoothstep(vec4<f32>(0.0), vec4<f32>(1.0), h.fade);
  h.a_i = h.a_s * fs.x * fs.y * fs.z * fs.w;
  let x0 = min(u32(u), params.width - 1u);
  let y0 = min(u32(v), params.height - 1u);
  let x1 = min(x0 + 1u, params.width - 1u);
  let y1 = min(y0 + 1u, params.height - 1u);
  h.f = vec2<f32>(u - f32(x0), v - f32(y0));
  h.taps = vec4<u32>(pix(j, x0, y0), pix(j, x1, y0), pix(j, x0, y1), pix(j, x1, y1));
  h.o_j = lerp4(tap_alpha(h.taps), h.f);
  h.d_j = lerp4(tap_depth(h.taps), h.f);
  h.c_j = vec3<f32>(lerp4(tap_rgb(h.taps, 0u), h.f), lerp4(tap_rgb(h.taps, 1u), h.f), lerp4(tap_rgb(h.taps, 2u), h.f));
  h.c_i = colour(h.src);
  h.a_j = sigmoid((h.o_j - params.solid) / params.softness);
  h.z_j = h.d_j / max(h.o_j, ALPHA_MIN);
  h.rel = 1.0 - h.z_j / h.q.z;
  h.vis = sigmoid((params.tau - h.rel) / (0.5 * params.tau));
  h.eg = 1.0 - exp(-charbonnier(h.rel));
  let dc = h.c_i - h.c_j;
  h.ep = (charbonnier(dc.x) + charbonnier(dc.y) + charbonnier(dc.z)) / 3.0;
  h.ok = true;
  return h;
}

#if REPROJECT_FWD
@compute @workgroup_size(256)
fn reproject_fwd(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                 @builtin(local_invocation_index) lid: u32) {
  let id = linear_invocation(wid, nwg, lid, 256u);
  if (id >= params.total) { return; }
  let h = reproject(id);
  var rec = vec4<f32>(0.0);
  if (h.ok) {
    let ws = h.a_j * h.vis;
    rec = h.a_i * vec4<f32>(ws * h.ep, ws, ws * h.eg + 1.0 - h.a_j, ws + 1.0 - h.a_j);
  }
  records[id] = rec;
}
#else
fn add(i: u32, v: f32) { atomic_add_f32(&grads[i], v); }

@compute @workgroup_size(256)
fn reproject_bwd(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                 @builtin(local_invocation_index) lid: u32) {
  let id = linear_invocation(wid, nwg, lid, 256u);
  if (id >= params.total) { return; }
  let h = reproject(id);
  if (!h.ok) { return; }
  let g = coefs[id / (params.width * params.height)];
  let vp = params.views * params.width * params.height;
  let ws = h.a_j * h.vis;
  // total = a_i * (ws * A + (1 - a_j) * B)
  let A = g.x * h.ep + g.y + g.z * h.eg + g.w;
  let B = g.z + g.w;
  let d_ai = ws * A + (1.0 - h.a_j) * B;
  let d_aj = h.a_i * (h.vis * A - B);
  let d_vis = h.a_i * h.a_j * A;
  let d_ep = h.a_i * ws * g.x;
  let d_eg = h.a_i * ws * g.z;
  // Colours.
  let dc = h.c_i - h.c_j;
  let d_ci = d_ep / 3.0 * vec3<f32>(charbonnier_grad(dc.x), charbonnier_grad(dc.y), charbonnier_grad(dc.z));
  let d_cj = -d_ci;
  // Relative depth, through the geometric error and the occlusion weight.
  let d_rel = d_eg * exp(-charbonnier(h.rel)) * charbonnier_grad(h.rel) - d_vis * h.vis * (1.0 - h.vis) / (0.5 * params.tau);
  let d_zj = -d_rel / h.q.z;
  var d_q = vec3<f32>(0.0, 0.0, d_rel * h.z_j / (h.q.z * h.q.z));
  let d_dj = d_zj / max(h.o_j, ALPHA_MIN);
  var d_oj = d_aj * h.a_j * (1.0 - h.a_j) / params.softness;
  if (h.o_j > ALPHA_MIN) { d_oj -= d_zj * h.d_j / (h.o_j * h.o_j); }
  // Taps, and the sample position through the bilinear fractions and the frame fade.
  let tf = clamp(h.fade, vec4<f32>(0.0), vec4<f32>(1.0));
  let fs = tf * tf * (3.0 - 2.0 * tf);
  let fd = 6.0 * tf * (1.0 - tf);
  var d_f = d_ai * h.a_s * vec2<f32>((fd.x * fs.y - fs.x * fd.y) * fs.z * fs.w, fs.x * fs.y * (fd.z * fs.w - fs.z * fd.w));
  d_f += d_oj * lerp4_grad(tap_alpha(h.taps), h.f) + d_dj * lerp4_grad(tap_depth(h.taps), h.f);
  for (var c = 0u; c < 3u; c++) { d_f += d_cj[c] * lerp4_grad(tap_rgb(h.taps, c), h.f); }
  let b = vec4<f32>((1.0 - h.f.x) * (1.0 - h.f.y), h.f.x * (1.0 - h.f.y), (1.0 - h.f.x) * h.f.y, h.f.x * h.f.y);
  for (var k = 0u; k < 4u; k++) {
    let t = h.taps[k];
    add(3u * vp + t, b[k] * d_oj);
    add(4u * vp + t, b[k] * d_dj);
    for (var c = 0u; c < 3u; c++) { add(t * 3u + c, b[k] * d_cj[c]); }
  }
  let cj = h.j * 16u;
  d_q.x += d_f.x * cams[cj] / h.q.z;
  d_q.y += d_f.y * cams[cj + 1u] / h.q.z;
  d_q.z -= (d_f.x * cams[cj] * h.q.x + d_f.y * cams[cj + 1u] * h.q.y) / (h.q.z * h.q.z);
  // Source: colour, and z = depth / alpha moves q along dir.
  let dz = dot(d_q, h.dir);
  for (var c = 0u; c < 3u; c++) { add(h.src * 3u + c, d_ci[c]); }
  add(4u * vp + h.src, dz / h.o);
  let frame = fs.x * fs.y * fs.z * fs.w;
  add(3u * vp + h.src, d_ai * frame * h.a_s * (1.0 - h.a_s) / params.softness - dz * depth[h.src] / (h.o * h.o));
}
#endif
