// Local rigidity (isometry) over fixed canonical k-nearest neighbours:
// weight / (N k) * sum_i sum_j w_ij (|m'_j - m'_i| - |m_j - m_i|)^2. One invocation per
// splat; the gradient lands on both ends of each pair, so it takes CAS adds (few per address:
// a splat is the neighbour of about k others).
#include "lib/dispatch.wgsl"
#include "deform/loss_reduce.wgsl"

struct RigidParams {
  count: u32,
  k: u32,
  scale: f32,  // weight / (N k)
  _pad: u32,
}

@group(0) @binding(0) var<uniform> U: RigidParams;
@group(0) @binding(1) var<storage, read> canonical: array<f32>;
@group(0) @binding(2) var<storage, read> deformed: array<f32>;
@group(0) @binding(3) var<storage, read> neighbours: array<u32>;
@group(0) @binding(4) var<storage, read> weights: array<f32>;
@group(0) @binding(5) var<storage, read_write> grad: array<atomic<u32>>;
@group(0) @binding(6) var<storage, read_write> loss: array<atomic<u32>>;

fn canonical_at(i: u32) -> vec3<f32> {
  return vec3<f32>(canonical[3u * i], canonical[3u * i + 1u], canonical[3u * i + 2u]);
}

fn deformed_at(i: u32) -> vec3<f32> {
  return vec3<f32>(deformed[3u * i], deformed[3u * i + 1u], deformed[3u * i + 2u]);
}

@compute @workgroup_size(64)
fn rigidity(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
            @builtin(local_invocation_index) lid: u32) {
  let i = linear_invocation(wid, nwg, lid, 64u);
  var l = 0.0;
  if (i < U.count) {
    let ci = canonical_at(i);
    let di = deformed_at(i);
    var gi = vec3<f32>(0.0);
    for (var s = 0u; s < U.k; s++) {
      let j = neighbours[i * U.k + s];
      let w = weights[i * U.k + s];
      let r0 = length(canonical_at(j) - ci);
      let d = deformed_at(j) - di;
      let r = length(d);
      let err = r - r0;
      l += U.scale * w * err * err;
      if (r > 0.0) {
        let g = (U.scale * 2.0 * w * err / r) * d;
        for (var c = 0u; c < 3u; c++) { atomic_add_f32(&grad[3u * j + c], g[c]); }
        gi -= g;
      }
    }
    for (var c = 0u; c < 3u; c++) { atomic_add_f32(&grad[3u * i + c], gi[c]); }
  }
  reduce_loss(lid, l, &loss[0]);
}
