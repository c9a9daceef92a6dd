// HexPlane field forward, one invocation per splat: features = per level, the product over
// the six planes of their bilinear samples at (x, y, z, t); then one hidden ReLU layer and a
// linear layer to the 14 offset channels. Saves the features and the hidden pre-activations
// for the backward pass.
#include "lib/dispatch.wgsl"
#include "deform/hexplane_common.wgsl"

@group(0) @binding(0) var<uniform> H: HexParams;
@group(0) @binding(1) var<storage, read> means: array<f32>;
@group(0) @binding(2) var<storage, read> planes: array<f32>;
@group(0) @binding(3) var<storage, read> mlp: array<f32>;
@group(0) @binding(4) var<storage, read_write> offsets: array<f32>;
@group(0) @binding(5) var<storage, read_write> feats: array<f32>;
@group(0) @binding(6) var<storage, read_write> pre: array<f32>;

fn bilinear(t: Tap, f: u32) -> f32 {
  return (1.0 - t.fa) * (1.0 - t.fb) * planes[t.i00 + f] + t.fa * (1.0 - t.fb) * planes[t.i10 + f]
       + (1.0 - t.fa) * t.fb * planes[t.i01 + f] + t.fa * t.fb * planes[t.i11 + f];
}

@compute @workgroup_size(64)
fn hexplane_fwd(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                @builtin(local_invocation_index) lid: u32) {
  let i = linear_invocation(wid, nwg, lid, 64u);
  if (i >= H.count) { return; }
  let c = hp_coords(vec3<f32>(means[3u * i], means[3u * i + 1u], means[3u * i + 2u]));
  let F = H.features;
  let D = H.levels * F;
  var feat: array<f32, MAX_INPUTS>;
  for (var l = 0u; l < H.levels; l++) {
    var taps: array<Tap, 6>;
    for (var p = 0u; p < 6u; p++) { taps[p] = hp_tap(l, p, c); }
    for (var f = 0u; f < F; f++) {
      var prod = 1.0;
      for (var p = 0u; p < 6u; p++) { prod *= bilinear(taps[p], f); }
      feat[l * F + f] = prod;
      feats[i * D + l * F + f] = prod;
    }
  }
  let Hd = H.hidden;
  var hid: array<f32, MAX_HIDDEN>;
  for (var j = 0u; j < Hd; j++) {
    var s = mlp[H.mlp_off.y + j];
    for (var k = 0u; k < D; k++) { s += mlp[H.mlp_off.x + j * D + k] * feat[k]; }
    pre[i * Hd + j] = s;
    hid[j] = max(s, 0.0);
  }
  for (var o = 0u; o < OUTPUTS; o++) {
    var s = 0.0;
    if (hp_head_enabled(o)) {
      s = mlp[H.mlp_off.w + o];
      for (var j = 0u; j < Hd; j++) { s += mlp[H.mlp_off.z + o * Hd + j] * hid[j]; }
    }
    offsets[i * OUTPUTS + o] = s;
  }
}
