// l2_loss_bwd: gradient of scale * sum (pred - target)^2 with respect to pred, for fitting
// splats to reference images (tests, examples).
#include "lib/dispatch.wgsl"

struct LossParams { count: u32, scale: f32 }
@group(0) @binding(0) var<uniform> params: LossParams;
@group(0) @binding(1) var<storage, read> pred: array<f32>;
@group(0) @binding(2) var<storage, read> target_image: array<f32>;
@group(0) @binding(3) var<storage, read_write> grad: array<f32>;

@compute @workgroup_size(256)
fn l2_loss_bwd(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
               @builtin(local_invocation_index) lid: u32) {
  let i = linear_invocation(wid, nwg, lid, 256u);
  if (i >= params.count) { return; }
  grad[i] = 2.0 * params.scale * (pred[i] - target_image[i]);
}
