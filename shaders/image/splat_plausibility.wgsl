// Per-splat plausibility records for the geometry reward: (o, o * anisotropy, o * floater, 0)
// with o = sigmoid(opacity logit), anisotropy = max(s_max / s_min, r) - r (STAG4D's needle
// penalty) and floater = 1 when the splat's centre falls outside the visual hull of the
// views it made: some view sees it on background (alpha < tau), or no view sees it at all.
// Those views are `views` consecutive views from `first` (one candidate's group of a batch);
// the records go to records[offset + i], so several groups can share one buffer (one row each)
// and reduce_rows then sums each group's records.
#include "lib/dispatch.wgsl"

struct Params { count: u32, views: u32, width: u32, height: u32, ratio: f32, tau: f32, first: u32, offset: u32 }
@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> cams: array<f32>;
@group(0) @binding(2) var<storage, read> means: array<f32>;
@group(0) @binding(3) var<storage, read> log_scales: array<f32>;
@group(0) @binding(4) var<storage, read> opacity_logits: array<f32>;
@group(0) @binding(5) var<storage, read> alpha: array<f32>;
@group(0) @binding(6) var<storage, read_write> records: array<vec4<f32>>;

@compute @workgroup_size(256)
fn splat_plausibility(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                      @builtin(local_invocation_index) lid: u32) {
  let i = linear_invocation(wid, nwg, lid, 256u);
  if (i >= params.count) { return; }
  let o = 1.0 / (1.0 + exp(-opacity_logits[i]));
  let s = exp(vec3<f32>(log_scales[i * 3u], log_scales[i * 3u + 1u], log_scales[i * 3u + 2u]));
  let ratio = max(s.x, max(s.y, s.z)) / max(min(s.x, min(s.y, s.z)), 1e-12);
  let aniso = max(ratio, params.ratio) - params.ratio;
  let p = vec3<f32>(means[i * 3u], means[i * 3u + 1u], means[i * 3u + 2u]);
  var seen = false;
  var outside = false;
  for (var v = params.first; v < params.first + params.views; v++) {
    let c = v * 16u;
    let q = vec3<f32>(
      dot(vec3<f32>(cams[c + 4u], cams[c + 5u], cams[c + 6u]), p) + cams[c + 7u],
      dot(vec3<f32>(cams[c + 8u], cams[c + 9u], cams[c + 10u]), p) + cams[c + 11u],
      dot(vec3<f32>(cams[c + 12u], cams[c + 13u], cams[c + 14u]), p) + cams[c + 15u]);
    if (q.z <= 1e-6) { continue; }
    let u = floor(cams[c] * q.x / q.z + cams[c + 2u]);
    let w = floor(cams[c + 1u] * q.y / q.z + cams[c + 3u]);
    if (u < 0.0 || w < 0.0 || u >= f32(params.width) || w >= f32(params.height)) { continue; }
    seen = true;
    if (alpha[(v * params.height + u32(w)) * params.width + u32(u)] < params.tau) { outside = true; }
  }
  let floater = select(0.0, 1.0, outside || !seen);
  records[params.offset + i] = vec4<f32>(o, o * aniso, o * floater, 0.0);
}
