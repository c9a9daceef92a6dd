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

// Coefficient k (rgb) of splat i, and adding to its gradient.
fn sh_coeff(i: u32, k: u32) -> vec3<f32> {
#if SH_SPLIT
  if (i >= frame.sh_split) {
    let o = (i - frame.sh_split) * frame.sh_coeffs * 3u + k * 3u;
    return vec3<f32>(sh_hi[o], sh_hi[o + 1u], sh_hi[o + 2u]);
  }
#endif
  let o = i * frame.sh_coeffs * 3u + k * 3u;
  return vec3<f32>(sh[o], sh[o + 1u], sh[o + 2u]);
}

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

@compute @workgroup_size(64)
fn color_bwd(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
             @builtin(local_invocation_index) lid: u32) {
  let i = linear_invocation(wid, nwg, lid, 64u);
  let n = frame.num_splats;
  if (i >= n) { return; }
  let mean = vec3<f32>(means[i * 3u], means[i * 3u + 1u], means[i * 3u + 2u]);
  let sig = sigmoid(opacity_logits[i]);
  let kmax = (frame.sh_degree + 1u) * (frame.sh_degree + 1u);
  var acc_mean = vec3<f32>(0.0);
  var acc_logit = 0.0;
  for (var v = 0u; v < frame.num_views; v++) {
    let idx = v * n + i;
    let gb = idx * GRAD_STRIDE;
    let v_op = grad2d[gb + 2u];
    let v_rgb = vec3<f32>(grad2d[gb + 8u], grad2d[gb + 9u], grad2d[gb + 10u]);
    if (v_op == 0.0 && all(v_rgb == vec3<f32>(0.0))) { continue; }
    let comp = bitcast<f32>(projected[idx * PROJ_STRIDE + 1u].w);
    acc_logit += v_op * select(1.0, comp, frame.antialiased != 0u) * sig * (1.0 - sig);
    let view = frame.views[v];
    let d = mean - view.campos.xyz;
    let len = length(d);
    let dir = d / len;
    let basis = sh_basis(frame.sh_degree, dir);
    var raw = vec3<f32>(0.5);
    for (var k = 0u; k < kmax; k++) { raw += basis[k] * sh_coeff(i, k); }
    let v_raw = select(vec3<f32>(0.0), v_rgb, raw >= vec3<f32>(0.0));
    let bgrad = sh_basis_grad(frame.sh_degree, dir);
    var v_dir = vec3<f32>(0.0);
    for (var k = 0u; k < kmax; k++) {
      add_v_sh(i, k, basis[k] * v_raw);
      v_dir += bgrad[k] * dot(sh_coeff(i, k), v_raw);
    }
    acc_mean += (v_dir - dir * dot(dir, v_dir)) / len;
  }
  for (var a = 0u; a < 3u; a++) { v_means[i * 3u + a] += acc_mean[a]; }
  v_opacity_logits[i] += acc_logit;
}
