// Sums rows of vec4 records: out[row] = sum over i < n of data[row * n + i]. One workgroup per
// row (rows are views, view pairs or a single row of splats); each thread strides over the
// row and the workgroup then reduces in shared memory, so no float atomics are needed.
#include "lib/dispatch.wgsl"

struct Params { n: u32, rows: u32 }
@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> data: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> out: array<vec4<f32>>;

var<workgroup> partial: array<vec4<f32>, 256>;

@compute @workgroup_size(256)
fn reduce_rows(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
               @builtin(local_invocation_index) lid: u32) {
  let row = linear_workgroup(wid, nwg);
  // `row` is uniform over the workgroup, so the early exit keeps barriers uniform.
  if (row >= params.rows) { return; }
  var acc = vec4<f32>(0.0);
  for (var i = lid; i < params.n; i += 256u) { acc += data[row * params.n + i]; }
  partial[lid] = acc;
  workgroupBarrier();
  for (var s = 128u; s > 0u; s >>= 1u) {
    if (lid < s) { partial[lid] += partial[lid + s]; }
    workgroupBarrier();
  }
  if (lid == 0u) { out[row] = partial[0]; }
}
