// Total variation of the HexPlane planes: per plane, the mean squared first difference along
// each axis, summed over planes and levels, times a weight. One invocation per plane float;
// each gathers its own gradient from its neighbours, so no atomics are needed for it.
#include "lib/dispatch.wgsl"
#include "deform/loss_reduce.wgsl"

struct TvParams {
  floats: u32,
  planes: u32,
  features: u32,
  weight: f32,
  plane: array<vec4<u32>, 24>,  // (first float, width, height, 0), offsets ascending
}

@group(0) @binding(0) var<uniform> U: TvParams;
@group(0) @binding(1) var<storage, read> planes: array<f32>;
@group(0) @binding(2) var<storage, read_write> grad: array<f32>;
@group(0) @binding(3) var<storage, read_write> loss: array<atomic<u32>>;

@compute @workgroup_size(64)
fn plane_tv(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
            @builtin(local_invocation_index) lid: u32) {
  let e = linear_invocation(wid, nwg, lid, 64u);
  var l = 0.0;
  if (e < U.floats) {
    var q = 0u;
    for (var p = 1u; p < U.planes; p++) { if (e >= U.plane[p].x) { q = p; } }
    let info = U.plane[q];
    let F = U.features;
    let w = info.y;
    let h = info.z;
    let cell = (e - info.x) / F;
    let x = cell % w;
    let y = cell / w;
    let nx = f32(h * (w - 1u) * F);
    let ny = f32((h - 1u) * w * F);
    let v = planes[e];
    var g = 0.0;
    if (x + 1u < w) { let d = planes[e + F] - v; l += d * d / nx; g -= 2.0 * d / nx; }
    if (x > 0u) { let d = v - planes[e - F]; g += 2.0 * d / nx; }
    if (y + 1u < h) { let d = planes[e + w * F] - v; l += d * d / ny; g -= 2.0 * d / ny; }
    if (y > 0u) { let d = v - planes[e - w * F]; g += 2.0 * d / ny; }
    grad[e] += U.weight * g;
    l *= U.weight;
  }
  reduce_loss(lid, l, &loss[0]);
}
