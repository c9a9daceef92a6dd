// Per-splat trajectory field: offset(t) = sum_b phi_b * coef[i][b] for position (3) and, when
// ROTATION is set in the uniform, the quaternion delta (4). The basis values phi_b at this
// time come from the host (polynomial then sin / cos - 1 pairs). One invocation per splat;
// the backward pass owns each splat's coefficients, so it needs no atomics.
#include "lib/dispatch.wgsl"

struct TrajParams {
  count: u32,
  basis: u32,
  rotation: u32,
  _pad: u32,
  phi: array<vec4<f32>, 16>,
}

@group(0) @binding(0) var<uniform> T: TrajParams;

fn phi_at(b: u32) -> f32 {
  return T.phi[b / 4u][b % 4u];
}

#if BACKWARD
@group(0) @binding(1) var<storage, read> d_offsets: array<f32>;
@group(0) @binding(2) var<storage, read_write> grad_pos: array<f32>;
@group(0) @binding(3) var<storage, read_write> grad_rot: array<f32>;

@compute @workgroup_size(64)
fn trajectory_bwd(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                  @builtin(local_invocation_index) lid: u32) {
  let i = linear_invocation(wid, nwg, lid, 64u);
  if (i >= T.count) { return; }
  for (var b = 0u; b < T.basis; b++) {
    let p = phi_at(b);
    for (var c = 0u; c < 3u; c++) { grad_pos[(i * T.basis + b) * 3u + c] += p * d_offsets[i * 14u + c]; }
    if (T.rotation != 0u) {
      for (var c = 0u; c < 4u; c++) { grad_rot[(i * T.basis + b) * 4u + c] += p * d_offsets[i * 14u + 3u + c]; }
    }
  }
}
#else
@group(0) @binding(1) var<storage, read> coef_pos: array<f32>;
@group(0) @binding(2) var<storage, read> coef_rot: array<f32>;
@group(0) @binding(3) var<storage, read_write> offsets: array<f32>;

@compute @workgroup_size(64)
fn trajectory_fwd(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                  @builtin(local_invocation_index) lid: u32) {
  let i = linear_invocation(wid, nwg, lid, 64u);
  if (i >= T.count) { return; }
  var pos = vec3<f32>(0.0);
  var rot = vec4<f32>(0.0);
  for (var b = 0u; b < T.basis; b++) {
    let p = phi_at(b);
    let k = i * T.basis + b;
    pos += p * vec3<f32>(coef_pos[3u * k], coef_pos[3u * k + 1u], coef_pos[3u * k + 2u]);
    if (T.rotation != 0u) {
      rot += p * vec4<f32>(coef_rot[4u * k], coef_rot[4u * k + 1u], coef_rot[4u * k + 2u], coef_rot[4u * k + 3u]);
    }
  }
  let o = i * 14u;
  offsets[o] = pos.x;
  offsets[o + 1u] = pos.y;
  offsets[o + 2u] = pos.z;
  for (var c = 0u; c < 4u; c++) { offsets[o + 3u + c] = rot[c]; }
  for (var c = 7u; c < 14u; c++) { offsets[o + c] = 0.0; }
}
#endif
