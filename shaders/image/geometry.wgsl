// Geometry plausibility from render buffers (src/rewards/geometry.ts, reference in
// src/reference/rewards/geometry.ts).
//   geometry_pixel: per pixel, the opacity entropy and the depth-normal inconsistency
//     l = m * (O - N_cam . n~), where n~ is the normal of the back-projected depth (central
//     differences of z = depth / alpha) and N the rendered (alpha-weighted) normal, plus the
//     partial derivatives of l w.r.t. the four neighbours' z for the backward pass.
//     It also copies the renderer's per-pixel depth distortion (when given) into the record,
//     so that reduce_rows sums it per view with the rest.
//   geometry_grad: gathers those partials and writes d(score)/d(alpha, depth, normal), scaled by
//     the per-view sums that reduce_rows produced in between.
//   geometry_distortion_grad: d(score)/d(distortion) = -w_distortion / pixels per view.
#include "lib/dispatch.wgsl"

struct Params {
  width: u32, height: u32, views: u32, total: u32,
  w_entropy: f32, w_normal: f32, w_distortion: f32, has_distortion: u32,
}
@group(0) @binding(0) var<uniform> params: Params;

const ALPHA_SOLID: f32 = 0.5;
const CLAMP: f32 = 1e-3;

fn entropy(o: f32) -> f32 {
  let c = clamp(o, CLAMP, 1.0 - CLAMP);
  return -(c * log(c) + (1.0 - c) * log(1.0 - c));
}

fn entropy_grad(o: f32) -> f32 {
  if (o <= CLAMP || o >= 1.0 - CLAMP) { return 0.0; }
  return log((1.0 - o) / o);
}

fn pixel_index(v: u32, x: i32, y: i32) -> u32 {
  return (v * params.height + u32(y)) * params.width + u32(x);
}

fn inside(x: i32, y: i32) -> bool {
  return x >= 0 && y >= 0 && x < i32(params.width) && y < i32(params.height);
}

#if GEOMETRY_PIXEL
@group(0) @binding(1) var<storage, read> cams: array<f32>;
@group(0) @binding(2) var<storage, read> alpha: array<f32>;
@group(0) @binding(3) var<storage, read> depth: array<f32>;
@group(0) @binding(4) var<storage, read> normal: array<f32>;
@group(0) @binding(5) var<storage, read_write> scratch: array<vec4<f32>>;
@group(0) @binding(6) var<storage, read_write> gz: array<vec4<f32>>;
@group(0) @binding(7) var<storage, read_write> dnormal: array<f32>;
// [V][H][W] when has_distortion; otherwise a 4-byte buffer that is never read (every
// binding of the layout must be bound).
@group(0) @binding(8) var<storage, read> distortion: array<f32>;

fn ray(v: u32, x: i32, y: i32) -> vec3<f32> {
  let c = v * 16u;
  return vec3<f32>((f32(x) + 0.5 - cams[c + 2u]) / cams[c], (f32(y) + 0.5 - cams[c + 3u]) / cams[c + 1u], 1.0);
}

fn solid(v: u32, x: i32, y: i32) -> bool {
  return inside(x, y) && alpha[pixel_index(v, x, y)] > ALPHA_SOLID;
}

fn point(v: u32, x: i32, y: i32) -> vec3<f32> {
  let i = pixel_index(v, x, y);
  return (depth[i] / alpha[i]) * ray(v, x, y);
}

fn rot_row(v: u32, r: u32) -> vec3<f32> {
  let c = v * 16u + 4u + 4u * r;
  return vec3<f32>(cams[c], cams[c + 1u], cams[c + 2u]);
}

@compute @workgroup_size(256)
fn geometry_pixel(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                  @builtin(local_invocation_index) lid: u32) {
  let id = linear_invocation(wid, nwg, lid, 256u);
  if (id >= params.total) { return; }
  let per_view = params.width * params.height;
  let v = id / per_view;
  let x = i32((id % per_view) % params.width);
  let y = i32((id % per_view) / params.width);
  let o = alpha[id];
  var l = 0.0;
  var m = 0.0;
  var g = vec4<f32>(0.0);
  var n_world = vec3<f32>(0.0);
  if (solid(v, x, y) && solid(v, x + 1, y) && solid(v, x - 1, y) && solid(v, x, y + 1) && solid(v, x, y - 1)) {
    let pa = point(v, x, y + 1) - point(v, x, y - 1);
    let pb = point(v, x + 1, y) - point(v, x - 1, y);
    let c = cross(pa, pb);
    let len = length(c);
    if (len > 1e-12) {
      let nt = c / len;
      let r0 = rot_row(v, 0u);
      let r1 = rot_row(v, 1u);
      let r2 = rot_row(v, 2u);
      let nw = vec3<f32>(normal[id * 3u], normal[id * 3u + 1u], normal[id * 3u + 2u]);
      let nc = vec3<f32>(dot(r0, nw), dot(r1, nw), dot(r2, nw));
      m = 1.0;
      l = o - dot(nc, nt);
      // d l / d c for c = pa x pb, through the normalisation.
      let gc = -(nc - nt * dot(nt, nc)) / len;
      g = vec4<f32>(
        dot(gc, cross(ray(v, x, y + 1), pb)),
        -dot(gc, cross(ray(v, x, y - 1), pb)),
        dot(gc, cross(pa, ray(v, x + 1, y))),
        -dot(gc, cross(pa, ray(v, x - 1, y))));
      n_world = nt.x * r0 + nt.y * r1 + nt.z * r2;
    }
  }
  let dist = select(0.0, distortion[id], params.has_distortion != 0u);
  scratch[id] = vec4<f32>(entropy(o), l, m, dist);
  gz[id] = g;
  dnormal[id * 3u] = -n_world.x;
  dnormal[id * 3u + 1u] = -n_world.y;
  dnormal[id * 3u + 2u] = -n_world.z;
}
#endif

#if GEOMETRY_GRAD
@group(0) @binding(1) var<storage, read> alpha: array<f32>;
@group(0) @binding(2) var<storage, read> depth: array<f32>;
@group(0) @binding(3) var<storage, read> scratch: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read> gz: array<vec4<f32>>;
@group(0) @binding(5) var<storage, read> sums: array<vec4<f32>>;
@group(0) @binding(6) var<storage, read_write> dalpha: array<f32>;
@group(0) @binding(7) var<storage, read_write> ddepth: array<f32>;
@group(0) @binding(8) var<storage, read_write> dnormal: array<f32>;

@compute @workgroup_size(256)
fn geometry_grad(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                 @builtin(local_invocation_index) lid: u32) {
  let id = linear_invocation(wid, nwg, lid, 256u);
  if (id >= params.total) { return; }
  let per_view = params.width * params.height;
  let v = id / per_view;
  let x = i32((id % per_view) % params.width);
  let y = i32((id % per_view) / params.width);
  let s = sums[v];
  let se = -params.w_entropy / f32(per_view);
  let sn = -params.w_normal / max(s.z, 1.0);
  // Each neighbour p stored d l_p / d z for this pixel in the slot named by their offset.
  var dz = 0.0;
  if (inside(x, y - 1)) { dz += gz[pixel_index(v, x, y - 1)].x; }
  if (inside(x, y + 1)) { dz += gz[pixel_index(v, x, y + 1)].y; }
  if (inside(x - 1, y)) { dz += gz[pixel_index(v, x - 1, y)].z; }
  if (inside(x + 1, y)) { dz += gz[pixel_index(v, x + 1, y)].w; }
  let o = alpha[id];
  var da = se * entropy_grad(o) + sn * scratch[id].z;
  var dd = 0.0;
  if (o > 0.0) {
    da += sn * (-dz * depth[id] / (o * o));
    dd = sn * dz / o;
  }
  dalpha[id] = da;
  ddepth[id] = dd;
  for (var c = 0u; c < 3u; c++) { dnormal[id * 3u + c] = sn * dnormal[id * 3u + c]; }
}
#endif

#if GEOMETRY_DISTORTION_GRAD
@group(0) @binding(1) var<storage, read_write> ddistortion: array<f32>;

@compute @workgroup_size(256)
fn geometry_distortion_grad(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                            @builtin(local_invocation_index) lid: u32) {
  let id = linear_invocation(wid, nwg, lid, 256u);
  if (id >= params.total) { return; }
  ddistortion[id] = -params.w_distortion / f32(params.width * params.height);
}
#endif
