// color_bwd: one invocation per splat, summing over views. SH coefficients get
// B_k(dir) * d rgb where the colour was not clamped; the direction's gradient goes to the
// mean; the opacity logit gets d opacity * compensation (antialiased) * sigmoid'.
#include "lib/dispatch.wgsl"
#include "splat/common.wgsl"
#include "splat/sh.wgsl"

@group(0) @binding(0) var<uniform> frame: Frame;
@group(0) @binding(1) var<storage, read> means: array<f32>;
@group(0) @binding(2) var<storage, read> sh: array<f32>;
@group(0) @binding(3) var<storage, read> opacity_logits: array<f32>;
@group(0) @binding(4) var<storage, read> projected: array<vec4<u32>>;
@group(0) @binding(5) var<storage, read> grad2d: array<f32>;
@group(0) @binding(6) var<storage, read_write> v_sh: array<f32>;
@group(0) @binding(7) var<storage, read_write> v_means: array<f32>;
@group(0) @binding(8) var<storage, read_write> v_opacity_logits: array<f32>;
#if SH_SPLIT
// Splats from frame.sh_split on: the second ranges of SH buffers over the binding limit.
@group(0) @binding(9) var<storage, read> sh_hi: array<f32>;
@group(0) @binding(10) var<storage, read_write> v_sh_hi: array<f32>;
#endif

#include "splat/sh_load.wgsl"

// Adds g to the gradient of coefficient k of splat i.
fn add_v_sh(i: u32, k: u32, g: vec3<f32>) {
#if SH_SPLIT
  if (i >= frame.sh_split) {
    let o = (i - frame.sh_split) * frame.sh_coeffs * 3u + k * 3u;
    v_sh_hi[o] += g.x;
    v_sh_hi[o + 1u] += g.y;
    v_sh_hi[o + 2u] += g.z;
    return;
  }
#endif
  let o = i * frame.sh_coeffs * 3u + k * 3u;
  v_sh[o] += g.x;
  v_sh[o + 1u] += g.y;
  v_sh[o + 2u] += g.z;
}

// Adds the gradients of the coefficients splat i's degree uses (constant indices, as load_sh).
fn store_v_sh(i: u32, degree: u32, g: array<vec3<f32>, 16>) {
  add_v_sh(i, 0u, g[0]);
  if (degree < 1u) { return; }
  add_v_sh(i, 1u, g[1]); add_v_sh(i, 2u, g[2]); add_v_sh(i, 3u, g[3]);
  if (degree < 2u) { return; }
  add_v_sh(i, 4u, g[4]); add_v_sh(i, 5u, g[5]); add_v_sh(i, 6u, g[6]); add_v_sh(i, 7u, g[7]);
  add_v_sh(i, 8u, g[8]);
  if (degree < 3u) { return; }
  add_v_sh(i, 9u, g[9]); add_v_sh(i, 10u, g[10]); add_v_sh(i, 11u, g[11]); add_v_sh(i, 12u, g[12]);
  add_v_sh(i, 13u, g[13]); add_v_sh(i, 14u, g[14]); add_v_sh(i, 15u, g[15]);
}

@compute @workgroup_size(64)
fn color_bwd(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
             @builtin(local_invocation_index) lid: u32) {
  let i = linear_invocation(wid, nwg, lid, 64u);
  let n = frame.num_splats;
  if (i >= n) { return; }
  let mean = vec3<f32>(means[i * 3u], means[i * 3u + 1u], means[i * 3u + 2u]);
  let sig = sigmoid(opacity_logits[i]);
  let degree = frame.sh_degree;
  // Coefficients read once and their gradients summed over the views, all in registers.
  let c = load_sh(i, degree);
  var v_c = array<vec3<f32>, 16>();
  var touched = false;
  var acc_mean = vec3<f32>(0.0);
  var acc_logit = 0.0;
  for (var v = 0u; v < frame.num_views; v++) {
    let idx = v * n + i;
    let gb = idx * GRAD_STRIDE;
    let v_op = grad2d[gb + 2u];
    let v_rgb = vec3<f32>(grad2d[gb + 8u], grad2d[gb + 9u], grad2d[gb + 10u]);
    if (v_op == 0.0 && all(v_rgb == vec3<f32>(0.0))) { continue; }
    touched = true;
    let comp = bitcast<f32>(projected[idx * PROJ_STRIDE + 1u].w);
    acc_logit += v_op * select(1.0, comp, frame.antialiased != 0u) * sig * (1.0 - sig);
    let d = mean - frame.views[v].campos.xyz;
    let len = length(d);
    let dir = d / len;
    // The colour was clamped at 0 where the raw value (recomputed as project_fwd did, bit
    // for bit) is negative.
    let v_raw = select(vec3<f32>(0.0), v_rgb, sh_rgb(c, degree, dir) >= vec3<f32>(0.0));
    let v_dir = sh_rgb_vjp(c, degree, dir, v_raw, &v_c);
    acc_mean += (v_dir - dir * dot(dir, v_dir)) / len;
  }
  if (!touched) { return; }
  store_v_sh(i, degree, v_c);
  for (var a = 0u; a < 3u; a++) { v_means[i * 3u + a] += acc_mean[a]; }
  v_opacity_logits[i] += acc_logit;
}
