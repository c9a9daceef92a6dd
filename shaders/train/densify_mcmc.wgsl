// gsplat's MCMC densification (3DGS-MCMC), the GPU side (host: src/train/densify-mcmc.ts,
// reference: src/reference/train/mcmc.ts):
//   mcmc_gather        row j of the next cloud <- splat source[j]; rows flagged as rewritten
//                      (relocated or grown copies and their sources) take the corrected opacity
//                      logit and log-scale shift; Adam moments restart at zero there
//   mcmc_inject_noise  means += R diag(s^2) R^T z * sigmoid(100 ((1 - o) - 0.995)) * scale:
//                      exploration noise that only moves nearly transparent splats
//   mcmc_regularize    adds the gradients of opacity_reg mean(sigmoid(o)) + scale_reg mean(exp(s))
#include "lib/dispatch.wgsl"
#include "lib/quaternion.wgsl"
#include "train/hash_random.wgsl"

const REWRITTEN_BIT: u32 = 0x80000000u;

fn sigmoid(x: f32) -> f32 { return 1.0 / (1.0 + exp(-x)); }

// mode 0: copy, 1: opacity logits, 2: log-scales, 3: an Adam moment.
// Buffers over the binding limit (SH at 1M splats): one dispatch per binding range of dst
// (rows from row_base on), and src bound in two ranges split at element src_split (the same
// range twice when it fits one binding).
struct GatherParams { rows: u32, width: u32, mode: u32, row_base: u32, src_split: u32 }
@group(0) @binding(0) var<uniform> gp: GatherParams;
@group(0) @binding(1) var<storage, read> gather_source: array<u32>;
@group(0) @binding(2) var<storage, read> new_logit: array<f32>;
@group(0) @binding(3) var<storage, read> scale_shift: array<f32>;
@group(0) @binding(4) var<storage, read> src_lo: array<f32>;
@group(0) @binding(5) var<storage, read> src_hi: array<f32>;
@group(0) @binding(6) var<storage, read_write> dst: array<f32>;

fn read_src(e: u32) -> f32 {
  if (e < gp.src_split) { return src_lo[e]; }
  return src_hi[e - gp.src_split];
}

@compute @workgroup_size(64)
fn mcmc_gather(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
               @builtin(local_invocation_index) lid: u32) {
  let e = linear_invocation(wid, nwg, lid, 64u);
  if (e >= gp.rows * gp.width) { return; }
  let j = gp.row_base + e / gp.width;
  let k = e % gp.width;
  let packed = gather_source[j];
  let i = packed & ~REWRITTEN_BIT;
  let flagged = (packed & REWRITTEN_BIT) != 0u;
  var value = read_src(i * gp.width + k);
  if (flagged) {
    if (gp.mode == 1u) { value = new_logit[j]; }
    if (gp.mode == 2u) { value = value + scale_shift[j]; }
    if (gp.mode == 3u) { value = 0.0; }
  }
  dst[e] = value;
}

struct NoiseParams { count: u32, seed: u32, scale: f32, pad: u32 }
@group(0) @binding(0) var<uniform> np: NoiseParams;
@group(0) @binding(1) var<storage, read> noise_log_scales: array<f32>;
@group(0) @binding(2) var<storage, read> noise_quats: array<f32>;
@group(0) @binding(3) var<storage, read> noise_opacity: array<f32>;
@group(0) @binding(4) var<storage, read_write> noise_means: array<f32>;

@compute @workgroup_size(64)
fn mcmc_inject_noise(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                     @builtin(local_invocation_index) lid: u32) {
  let i = linear_invocation(wid, nwg, lid, 64u);
  if (i >= np.count) { return; }
  let s2 = exp(2.0 * vec3<f32>(noise_log_scales[3u * i], noise_log_scales[3u * i + 1u], noise_log_scales[3u * i + 2u]));
  let R = raw_quat_to_rotmat(vec4<f32>(noise_quats[4u * i], noise_quats[4u * i + 1u], noise_quats[4u * i + 2u], noise_quats[4u * i + 3u]));
  let z = vec3<f32>(hash_normal(np.seed, i, 0u), hash_normal(np.seed, i, 1u), hash_normal(np.seed, i, 2u));
  let gate = 1.0 / (1.0 + exp(-100.0 * ((1.0 - sigmoid(noise_opacity[i])) - 0.995)));
  let d = R * (s2 * (transpose(R) * z)) * (gate * np.scale);
  noise_means[3u * i] += d.x;
  noise_means[3u * i + 1u] += d.y;
  noise_means[3u * i + 2u] += d.z;
}

struct RegParams { count: u32, opacity_coef: f32, scale_coef: f32, pad: u32 }
@group(0) @binding(0) var<uniform> rgp: RegParams;
@group(0) @binding(1) var<storage, read> reg_opacity: array<f32>;
@group(0) @binding(2) var<storage, read> reg_log_scales: array<f32>;
@group(0) @binding(3) var<storage, read_write> grad_opacity: array<f32>;
@group(0) @binding(4) var<storage, read_write> grad_log_scales: array<f32>;

@compute @workgroup_size(64)
fn mcmc_regularize(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                   @builtin(local_invocation_index) lid: u32) {
  let i = linear_invocation(wid, nwg, lid, 64u);
  if (i >= rgp.count) { return; }
  let p = sigmoid(reg_opacity[i]);
  grad_opacity[i] += rgp.opacity_coef * p * (1.0 - p);
  for (var a = 0u; a < 3u; a++) {
    grad_log_scales[3u * i + a] += rgp.scale_coef * exp(reg_log_scales[3u * i + a]);
  }
}
