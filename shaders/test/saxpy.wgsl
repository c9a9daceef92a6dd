// A tiny kernel used by `rl4d doctor` and the GPU-layer tests: y = a * x + y.
#include "lib/dispatch.wgsl"

struct Params { a: f32, n: u32 }
@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;

@compute @workgroup_size(64)
fn saxpy(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
         @builtin(local_invocation_index) lid: u32) {
  let i = linear_invocation(wid, nwg, lid, 64u);
  if (i >= params.n) { return; }
  y[i] = params.a * x[i] + y[i];
}
