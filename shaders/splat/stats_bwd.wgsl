// stats_bwd: per splat, over views where it is visible: accumulate the screen-space mean
// gradient norm scaled as gsplat does (x by W/2 * views, y by H/2 * views), the same for the
// absgrad sums, the visibility count, and the largest screen radius.
#include "lib/dispatch.wgsl"
#include "splat/common.wgsl"

@group(0) @binding(0) var<uniform> frame: Frame;
@group(0) @binding(1) var<storage, read> grad2d: array<f32>;
@group(0) @binding(2) var<storage, read> radii: array<u32>;
@group(0) @binding(3) var<storage, read_write> grad_norm: array<f32>;
@group(0) @binding(4) var<storage, read_write> abs_grad_norm: array<f32>;
@group(0) @binding(5) var<storage, read_write> visible_count: array<f32>;
@group(0) @binding(6) var<storage, read_write> max_radius: array<f32>;

@compute @workgroup_size(64)
fn stats_bwd(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
             @builtin(local_invocation_index) lid: u32) {
  let i = linear_invocation(wid, nwg, lid, 64u);
  let n = frame.num_splats;
  if (i >= n) { return; }
  let scale = vec2<f32>(f32(frame.width), f32(frame.height)) * 0.5 * f32(frame.total_views);
  var norm = 0.0;
  var abs_norm = 0.0;
  var count = 0.0;
  var radius = max_radius[i];
  for (var v = 0u; v < frame.num_views; v++) {
    let idx = v * n + i;
    let r = radii[idx];
    if (r == 0u) { continue; }
    let gb = idx * GRAD_STRIDE;
    norm += length(vec2<f32>(grad2d[gb], grad2d[gb + 1u]) * scale);
    abs_norm += length(vec2<f32>(grad2d[gb + 11u], grad2d[gb + 15u]) * scale);
    count += 1.0;
    radius = max(radius, f32(r));
  }
  grad_norm[i] += norm;
  abs_grad_norm[i] += abs_norm;
  visible_count[i] += count;
  max_radius[i] = radius;
}
