// HexPlane field backward, one invocation per splat, from the offset cotangents [N][14]:
// writes the hidden pre-activation cotangents (mlp_grad.wgsl reduces the weight gradients
// from them), scatters the planes' gradients, and with MEAN_GRAD adds the offsets' dependence
// on the canonical mean (through the bilinear sampling position) into g_means.
// Plane texels are shared by many splats at irregular places, so they take CAS float adds.
#include "lib/dispatch.wgsl"
#include "lib/atomic_float.wgsl"
#include "deform/hexplane_common.wgsl"

@group(0) @binding(0) var<uniform> H: HexParams;
@group(0) @binding(1) var<storage, read> d_offsets: array<f32>;
@group(0) @binding(2) var<storage, read> pre: array<f32>;
@group(0) @binding(3) var<storage, read> mlp: array<f32>;
@group(0) @binding(4) var<storage, read> means: array<f32>;
@group(0) @binding(5) var<storage, read> planes: array<f32>;
@group(0) @binding(6) var<storage, read_write> planes_grad: array<atomic<u32>>;
@group(0) @binding(7) var<storage, read_write> d_pre: array<f32>;
#if MEAN_GRAD
@group(0) @binding(8) var<storage, read_write> g_means: array<f32>;
#endif

fn bilinear(t: Tap, f: u32) -> f32 {
  return (1.0 - t.fa) * (1.0 - t.fb) * planes[t.i00 + f] + t.fa * (1.0 - t.fb) * planes[t.i10 + f]
       + (1.0 - t.fa) * t.fb * planes[t.i01 + f] + t.fa * t.fb * planes[t.i11 + f];
}

@compute @workgroup_size(64)
fn hexplane_bwd(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                @builtin(local_invocation_index) lid: u32) {
  let i = linear_invocation(wid, nwg, lid, 64u);
  if (i >= H.count) { return; }
  let F = H.features;
  let D = H.levels * F;
  let Hd = H.hidden;

  var d_out: array<f32, OUTPUTS>;
  for (var o = 0u; o < OUTPUTS; o++) {
    d_out[o] = select(0.0, d_offsets[i * OUTPUTS + o], hp_head_enabled(o));
  }
  var dp: array<f32, MAX_HIDDEN>;
  for (var j = 0u; j < Hd; j++) {
    var s = 0.0;
    if (pre[i * Hd + j] > 0.0) {
      for (var o = 0u; o < OUTPUTS; o++) { s += mlp[H.mlp_off.z + o * Hd + j] * d_out[o]; }
    }
    dp[j] = s;
    d_pre[i * Hd + j] = s;
  }
  var d_feat: array<f32, MAX_INPUTS>;
  for (var k = 0u; k < D; k++) {
    var s = 0.0;
    for (var j = 0u; j < Hd; j++) { s += mlp[H.mlp_off.x + j * D + k] * dp[j]; }
    d_feat[k] = s;
  }

  let c = hp_coords(vec3<f32>(means[3u * i], means[3u * i + 1u], means[3u * i + 2u]));
  var gm = vec4<f32>(0.0);
  for (var l = 0u; l < H.levels; l++) {
    var taps: array<Tap, 6>;
    for (var p = 0u; p < 6u; p++) { taps[p] = hp_tap(l, p, c); }
    for (var f = 0u; f < F; f++) {
      let df = d_feat[l * F + f];
      if (df == 0.0) { continue; }
      var s: array<f32, 6>;
      for (var p = 0u; p < 6u; p++) { s[p] = bilinear(taps[p], f); }
      for (var p = 0u; p < 6u; p++) {
        var others = df;
        for (var q = 0u; q < 6u; q++) { if (q != p) { others *= s[q]; } }
        let t = taps[p];
        atomic_add_f32(&planes_grad[t.i00 + f], others * (1.0 - t.fa) * (1.0 - t.fb));
        atomic_add_f32(&planes_grad[t.i10 + f], others * t.fa * (1.0 - t.fb));
        atomic_add_f32(&planes_grad[t.i01 + f], others * (1.0 - t.fa) * t.fb);
        atomic_add_f32(&planes_grad[t.i11 + f], others * t.fa * t.fb);
        let v00 = planes[t.i00 + f];
        let v10 = planes[t.i10 + f];
        let v01 = planes[t.i01 + f];
        let v11 = planes[t.i11 + f];
        let dga = (1.0 - t.fb) * (v10 - v00) + t.fb * (v11 - v01);
        let dgb = (1.0 - t.fa) * (v01 - v00) + t.fa * (v11 - v10);
        gm[t.axis_a] += others * dga * t.sa;
        gm[t.axis_b] += others * dgb * t.sb;
      }
    }
  }
#if MEAN_GRAD
  g_means[3u * i] += gm.x;
  g_means[3u * i + 1u] += gm.y;
  g_means[3u * i + 2u] += gm.z;
#endif
}
