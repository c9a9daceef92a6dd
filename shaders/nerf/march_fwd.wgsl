// Forward ray marching, one invocation per pixel: fixed steps inside the box, occupied
// cells only, early stop when transmittance drops below 1e-4, background behind.
// Normals are central differences of the density (nerf/fd_normal.wgsl), weight-averaged,
// for samples of weight >= NORMAL_MIN_WEIGHT only. Without the NORMALS define the normal
// output is written as zeros (cheaper when unused).
// With WARP (4D) each sample is moved to the canonical field by the deformation offsets of
// its slot (nerf/warp.wgsl) before the occupancy lookup and the field evaluation; the rays of
// one dispatch are then a chunk [ray_offset, ray_offset + ray_count) of one view.
#include "lib/dispatch.wgsl"
#include "nerf/field.wgsl"
#include "nerf/ray.wgsl"
#include "nerf/occupied.wgsl"
#include "nerf/fd_normal.wgsl"

@group(0) @binding(0) var<uniform> field: FieldParams;
@group(0) @binding(1) var<uniform> rp: RenderParams;
@group(0) @binding(2) var<storage, read> hash_table: array<f32>;
@group(0) @binding(3) var<storage, read> mlp: array<f32>;
@group(0) @binding(4) var<storage, read> cams: array<f32>;
@group(0) @binding(5) var<storage, read> occ: array<u32>;
@group(0) @binding(6) var<storage, read_write> out_rgb: array<f32>;
@group(0) @binding(7) var<storage, read_write> out_alpha: array<f32>;
@group(0) @binding(8) var<storage, read_write> out_depth: array<f32>;
@group(0) @binding(9) var<storage, read_write> out_normal: array<f32>;
#if WARP
#include "nerf/warp.wgsl"
@group(0) @binding(10) var<storage, read> offsets: array<f32>;
#endif

const MIN_TRANSMITTANCE: f32 = 1e-4;

@compute @workgroup_size(64)
fn march_fwd(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
             @builtin(local_invocation_index) lid: u32) {
  let local = linear_invocation(wid, nwg, lid, 64u);
  if (local >= rp.ray_count) { return; }
  let id = rp.ray_offset + local;
  let ray = camera_ray(id);
  var T = 1.0;
  var C = vec3<f32>(0.0);
  var D = 0.0;
  var N = vec3<f32>(0.0);
  sh_direction(ray.d);
  for (var i = 0u; i < rp.max_steps; i++) {
    let t = sample_t(ray, i);
    if (t >= ray.t1) { break; }
    var p = ray.o + t * ray.d;
#if WARP
    p = warp(p, local * rp.max_steps + i);
#endif
    if (!occupied(p)) { continue; }
    encode(p);
    hidden_forward();
    let sigma = trunc_exp(density_pre());
    let col = sigmoid3(colour_pre());
    let e = step_transmittance(sigma * rp.step);
    let w = T * (1.0 - e);
    C += w * col;
    D += w * (t * ray.z_per_t);
#if NORMALS
    if (w >= NORMAL_MIN_WEIGHT) { N += w * unit_normal(fd_density_gradient(p, rp.normal_eps)); }
#endif
    T *= e;
    if (T < MIN_TRANSMITTANCE) { break; }
  }
  C += T * rp.bg;
  out_rgb[id * 3u] = C.x;
  out_rgb[id * 3u + 1u] = C.y;
  out_rgb[id * 3u + 2u] = C.z;
  out_alpha[id] = 1.0 - T;
  out_depth[id] = D;
  out_normal[id * 3u] = N.x;
  out_normal[id * 3u + 1u] = N.y;
  out_normal[id * 3u + 2u] = N.z;
}
