// Density and colour of the field at given points seen along given directions (exports:
// density grids for marching cubes, vertex colours, splats). Output per point: sigma, r, g, b.
#include "lib/dispatch.wgsl"
#include "nerf/field.wgsl"

struct Count { n: u32 }
@group(0) @binding(0) var<uniform> field: FieldParams;
@group(0) @binding(1) var<uniform> count: Count;
@group(0) @binding(2) var<storage, read> hash_table: array<f32>;
@group(0) @binding(3) var<storage, read> mlp: array<f32>;
@group(0) @binding(4) var<storage, read> points: array<f32>;
@group(0) @binding(5) var<storage, read> dirs: array<f32>;
@group(0) @binding(6) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(64)
fn field_query(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
               @builtin(local_invocation_index) lid: u32) {
  let i = linear_invocation(wid, nwg, lid, 64u);
  if (i >= count.n) { return; }
  let p = vec3<f32>(points[i * 3u], points[i * 3u + 1u], points[i * 3u + 2u]);
  let d = vec3<f32>(dirs[i * 3u], dirs[i * 3u + 1u], dirs[i * 3u + 2u]);
  encode(p);
  hidden_forward();
  sh_direction(d);
  let c = sigmoid3(colour_pre());
  out[i * 4u] = trunc_exp(density_pre());
  out[i * 4u + 1u] = c.x;
  out[i * 4u + 2u] = c.y;
  out[i * 4u + 3u] = c.z;
}
