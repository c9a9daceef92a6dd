// Multi-view consistency (src/rewards/consistency.ts; reference src/reference/rewards/consistency.ts).
//   reproject: for each (view i, neighbour j) pair and pixel p of i that i sees as solid,
//     back-projects p with z = depth / alpha, projects it into j, and records
//     (photometric error, photometric count, geometric error, geometric count):
//     j sees background there -> geometric error 1; the point lies behind j's surface by more
//     than tau (occluded in j) -> skipped; otherwise geometric error min(|dz| / z, 1) and the
//     L1 colour difference.
//   janus: for each pair of roughly opposite views, sums of grey values inside the joint
//     mask, as is and with the second view flipped horizontally, for a normalised
//     cross-correlation on the CPU. Only surfaces that the other view cannot see count
//     (normal facing away from it): a surface both views see (a top face) may look alike.
#include "lib/dispatch.wgsl"

struct Params { width: u32, height: u32, pairs: u32, total: u32, tau: f32, solid: f32, _p0: f32, _p1: f32 }
@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> pairs: array<u32>;
@group(0) @binding(2) var<storage, read> rgb: array<f32>;
@group(0) @binding(3) var<storage, read> alpha: array<f32>;

fn pix(v: u32, x: u32, y: u32) -> u32 { return (v * params.height + y) * params.width + x; }

#if REPROJECT
@group(0) @binding(4) var<storage, read> cams: array<f32>;
@group(0) @binding(5) var<storage, read> depth: array<f32>;
@group(0) @binding(6) var<storage, read_write> records: array<vec4<f32>>;

fn rot(v: u32, r: u32) -> vec3<f32> {
  let c = v * 16u + 4u + 4u * r;
  return vec3<f32>(cams[c], cams[c + 1u], cams[c + 2u]);
}
fn trans(v: u32) -> vec3<f32> {
  let c = v * 16u + 4u;
  return vec3<f32>(cams[c + 3u], cams[c + 7u], cams[c + 11u]);
}

@compute @workgroup_size(256)
fn reproject(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
             @builtin(local_invocation_index) lid: u32) {
  let id = linear_invocation(wid, nwg, lid, 256u);
  if (id >= params.total) { return; }
  let per = params.width * params.height;
  let pair = id / per;
  let i = pairs[pair * 2u];
  let j = pairs[pair * 2u + 1u];
  let x = (id % per) % params.width;
  let y = (id % per) / params.width;
  let pi = pix(i, x, y);
  var rec = vec4<f32>(0.0);
  let o = alpha[pi];
  if (o > params.solid) {
    let ci = i * 16u;
    let z = depth[pi] / o;
    let pc = z * vec3<f32>((f32(x) + 0.5 - cams[ci + 2u]) / cams[ci], (f32(y) + 0.5 - cams[ci + 3u]) / cams[ci + 1u], 1.0);
    // World point: R_i^T (p_cam - t_i).
    let d = pc - trans(i);
    let pw = d.x * rot(i, 0u) + d.y * rot(i, 1u) + d.z * rot(i, 2u);
    let q = vec3<f32>(dot(rot(j, 0u), pw), dot(rot(j, 1u), pw), dot(rot(j, 2u), pw)) + trans(j);
    let cj = j * 16u;
    if (q.z > 1e-6) {
      let u = floor(cams[cj] * q.x / q.z + cams[cj + 2u]);
      let w = floor(cams[cj + 1u] * q.y / q.z + cams[cj + 3u]);
      if (u >= 0.0 && w >= 0.0 && u < f32(params.width) && w < f32(params.height)) {
        let pj = pix(j, u32(u), u32(w));
        let oj = alpha[pj];
        if (oj <= params.solid) {
          rec = vec4<f32>(0.0, 0.0, 1.0, 1.0);
        } else {
          let rel = (q.z - depth[pj] / oj) / q.z;
          if (rel <= params.tau) {
            let dc = abs(vec3<f32>(rgb[pi * 3u], rgb[pi * 3u + 1u], rgb[pi * 3u + 2u]) -
                         vec3<f32>(rgb[pj * 3u], rgb[pj * 3u + 1u], rgb[pj * 3u + 2u]));
            rec = vec4<f32>((dc.x + dc.y + dc.z) / 3.0, 1.0, min(abs(rel), 1.0), 1.0);
          }
        }
      }
    }
  }
  records[id] = rec;
}
#endif

#if JANUS
// 16 sums per pair: [n, sa, sb, saa, sbb, sab, chroma L1, 0] as is, then the same with view b
// flipped. Chromaticity (colour / its sum) ignores the shading, so a differently coloured back
// does not pass for a repeated front.
@group(0) @binding(4) var<storage, read> normal: array<f32>;
@group(0) @binding(5) var<storage, read> dirs: array<vec4<f32>>;
@group(0) @binding(6) var<storage, read_write> sums: array<vec4<f32>>;

var<workgroup> part: array<array<vec4<f32>, 4>, 64>;

fn hidden_from(v: u32, x: u32, y: u32, other: u32) -> bool {
  let p = pix(v, x, y) * 3u;
  return alpha[pix(v, x, y)] > params.solid &&
    dot(vec3<f32>(normal[p], normal[p + 1u], normal[p + 2u]), dirs[other].xyz) < 0.0;
}

fn colour(v: u32, x: u32, y: u32) -> vec3<f32> {
  let p = pix(v, x, y) * 3u;
  return vec3<f32>(rgb[p], rgb[p + 1u], rgb[p + 2u]);
}

fn chroma_l1(a: vec3<f32>, b: vec3<f32>) -> f32 {
  let ca = (a + vec3<f32>(0.02)) / (a.x + a.y + a.z + 0.06);
  let cb = (b + vec3<f32>(0.02)) / (b.x + b.y + b.z + 0.06);
  let d = abs(ca - cb);
  return d.x + d.y + d.z;
}

@compute @workgroup_size(64)
fn janus(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
         @builtin(local_invocation_index) lid: u32) {
  let pair = linear_workgroup(wid, nwg);
  if (pair >= params.pairs) { return; }
  let a = pairs[pair * 2u];
  let b = pairs[pair * 2u + 1u];
  var s0 = vec4<f32>(0.0);
  var s1 = vec4<f32>(0.0);
  var f0 = vec4<f32>(0.0);
  var f1 = vec4<f32>(0.0);
  let per = params.width * params.height;
  for (var p = lid; p < per; p += 64u) {
    let x = p % params.width;
    let y = p / params.width;
    if (!hidden_from(a, x, y, b)) { continue; }
    let ca = colour(a, x, y);
    let ga = (ca.x + ca.y + ca.z) / 3.0;
    if (hidden_from(b, x, y, a)) {
      let cb = colour(b, x, y);
      let gb = (cb.x + cb.y + cb.z) / 3.0;
      s0 += vec4<f32>(1.0, ga, gb, ga * ga);
      s1 += vec4<f32>(gb * gb, ga * gb, chroma_l1(ca, cb), 0.0);
    }
    let xf = params.width - 1u - x;
    if (hidden_from(b, xf, y, a)) {
      let cb = colour(b, xf, y);
      let gb = (cb.x + cb.y + cb.z) / 3.0;
      f0 += vec4<f32>(1.0, ga, gb, ga * ga);
      f1 += vec4<f32>(gb * gb, ga * gb, chroma_l1(ca, cb), 0.0);
    }
  }
  part[lid][0] = s0;
  part[lid][1] = s1;
  part[lid][2] = f0;
  part[lid][3] = f1;
  workgroupBarrier();
  for (var s = 32u; s > 0u; s >>= 1u) {
    if (lid < s) {
      part[lid][0] += part[lid + s][0];
      part[lid][1] += part[lid + s][1];
      part[lid][2] += part[lid + s][2];
      part[lid][3] += part[lid + s][3];
    }
    workgroupBarrier();
  }
  if (lid == 0u) {
    sums[pair * 4u] = part[0][0];
    sums[pair * 4u + 1u] = part[0][1];
    sums[pair * 4u + 2u] = part[0][2];
    sums[pair * 4u + 3u] = part[0][3];
  }
}
#endif
