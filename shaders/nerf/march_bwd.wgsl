// Backward ray marching, one invocation per pixel of a chunk of rays. Re-marches the same
// samples as march_fwd and gets each sample's loss gradient from the final outputs with the
// suffix trick (what lies behind sample i = final - accumulated up to i), so nothing per
// sample is kept from the forward pass. Writes one record per evaluated sample with the
// gradients w.r.t. the density and colour pre-activations; mlp_bwd turns the records into
// parameter gradients. Record: pos xyz (canonical in 4D), d_sigma_pre, dir xyz,
// d_colour_pre rgb, sample slot in the chunk (u32 bits; 4D only) (11 floats).
// With NORMALS (a normal cotangent is given) the normal n_i = -g/|g| of each sample, g the
// central difference of nerf/fd_normal.wgsl, is differentiated too: it weighs into the
// density like a colour (suffix trick on N), and its own gradient becomes six more records,
// one per difference point p + eps k_j, with d_sigma_pre = (dL/dg . k_j) / (2 eps). Samples the
// forward gave no normal (weight below NORMAL_MIN_WEIGHT) have n = 0 here too.
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
@group(0) @binding(6) var<storage, read> state: array<f32>;
@group(0) @binding(7) var<storage, read_write> records: array<f32>;
@group(0) @binding(8) var<storage, read_write> counter: array<atomic<u32>>;
#if WARP
#include "nerf/warp.wgsl"
@group(0) @binding(9) var<storage, read> offsets: array<f32>;
#endif

const MIN_TRANSMITTANCE: f32 = 1e-4;
const RECORD: u32 = 11u;
const STATE: u32 = 16u;

fn write_record(p: vec3<f32>, d_sigma_pre: f32, dir: vec3<f32>, d_col_pre: vec3<f32>, slot: u32) {
  if (d_sigma_pre == 0.0 && all(d_col_pre == vec3<f32>(0.0))) { return; }
  let r = atomicAdd(&counter[0], 1u);
  if (r >= rp.capacity) { return; }
  let o = r * RECORD;
  records[o] = p.x; records[o + 1u] = p.y; records[o + 2u] = p.z;
  records[o + 3u] = d_sigma_pre;
  records[o + 4u] = dir.x; records[o + 5u] = dir.y; records[o + 6u] = dir.z;
  records[o + 7u] = d_col_pre.x; records[o + 8u] = d_col_pre.y; records[o + 9u] = d_col_pre.z;
  records[o + 10u] = bitcast<f32>(slot);
}

@compute @workgroup_size(64)
fn march_bwd(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
             @builtin(local_invocation_index) lid: u32) {
  let local = linear_invocation(wid, nwg, lid, 64u);
  if (local >= rp.ray_count) { return; }
  let id = rp.ray_offset + local;
  let s = id * STATE;
  let C = vec3<f32>(state[s], state[s + 1u], state[s + 2u]);
  let D = state[s + 3u];
  let T_final = 1.0 - state[s + 4u];
  let g_rgb = vec3<f32>(state[s + 5u], state[s + 6u], state[s + 7u]);
  let g_depth = state[s + 8u];
  let g_alpha = state[s + 9u];
  let N = vec3<f32>(state[s + 10u], state[s + 11u], state[s + 12u]);
  let g_normal = vec3<f32>(state[s + 13u], state[s + 14u], state[s + 15u]);
  let ray = camera_ray(id);
  sh_direction(ray.d);
  var T = 1.0;
  var C_acc = vec3<f32>(0.0);
  var D_acc = 0.0;
  var N_acc = vec3<f32>(0.0);
  for (var i = 0u; i < rp.max_steps; i++) {
    let t = sample_t(ray, i);
    if (t >= ray.t1) { break; }
    let slot = local * rp.max_steps + i;
    var p = ray.o + t * ray.d;
#if WARP
    p = warp(p, slot);
#endif
    if (!occupied(p)) { continue; }
    encode(p);
    hidden_forward();
    let sigma = trunc_exp(density_pre());
    let col = sigmoid3(colour_pre());
    let e = step_transmittance(sigma * rp.step);
    let w = T * (1.0 - e);
    let z = t * ray.z_per_t;
    let T_next = T * e;
    C_acc += w * col;
    D_acc += w * z;
    var d_sigma = dot(g_rgb, T_next * col - (C - C_acc)) + g_depth * (T_next * z - (D - D_acc)) + g_alpha * T_final;
#if NORMALS
    var n = vec3<f32>(0.0);
    if (w >= NORMAL_MIN_WEIGHT) {
      let g = fd_density_gradient(p, rp.normal_eps);
      n = unit_normal(g);
      // n = -g / |g|: dL/dg = -(I - n n^T) (w g_normal) / |g| (zero where the normal is zero).
      let len = length(g);
      if (len >= 1e-20) {
        let dn = w * g_normal;
        let dg = -(dn - n * dot(n, dn)) / len;
        for (var j = 0u; j < NORMAL_POINTS; j++) {
          let k = fd_point(j);
          write_record(p + rp.normal_eps * k, dot(dg, k) / (FD_SCALE * rp.normal_eps), ray.d, vec3<f32>(0.0), slot);
        }
      }
    }
    N_acc += w * n;
    d_sigma += dot(g_normal, T_next * n - (N - N_acc));
#endif
    // trunc-exp passes exp(clamped x) back, as instant-ngp does.
    let d_sigma_pre = rp.step * d_sigma * sigma;
    let d_col_pre = w * g_rgb * col * (vec3<f32>(1.0) - col);
    write_record(p, d_sigma_pre, ray.d, d_col_pre, slot);
    T = T_next;
    if (T < MIN_TRANSMITTANCE) { break; }
  }
}
