// Occupancy grid update, one invocation per cell: the density is taken at the cell's 8
// corners and one jittered interior point; the cell keeps an EMA-style running value
// max(decay * old, new) and is occupied while that value exceeds the threshold.
#include "lib/dispatch.wgsl"
#include "nerf/field.wgsl"

struct OccParams { res: u32, seed: u32, decay: f32, threshold: f32 }
@group(0) @binding(0) var<uniform> field: FieldParams;
@group(0) @binding(1) var<uniform> op: OccParams;
@group(0) @binding(2) var<storage, read> hash_table: array<f32>;
@group(0) @binding(3) var<storage, read> mlp: array<f32>;
@group(0) @binding(4) var<storage, read_write> density: array<f32>;
@group(0) @binding(5) var<storage, read_write> occ: array<u32>;

fn pcg(v: u32) -> u32 {
  let s = v * 747796405u + 2891336453u;
  let w = ((s >> ((s >> 28u) + 4u)) ^ s) * 277803737u;
  return (w >> 22u) ^ w;
}

fn rand01(v: u32) -> f32 { return f32(pcg(v) >> 8u) / 16777216.0; }

fn density_at(p: vec3<f32>) -> f32 {
  encode(p);
  hidden_forward();
  return trunc_exp(density_pre());
}

@compute @workgroup_size(64)
fn occupancy_update(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                    @builtin(local_invocation_index) lid: u32) {
  let i = linear_invocation(wid, nwg, lid, 64u);
  let g = op.res;
  if (i >= g * g * g) { return; }
  let c = vec3<f32>(f32(i % g), f32((i / g) % g), f32(i / (g * g)));
  let ext = (field.box_max - field.box_min) / f32(g);
  let lo = field.box_min + c * ext;
  var m = 0.0;
  for (var k = 0u; k < 8u; k++) {
    m = max(m, density_at(lo + vec3<f32>(corner_offset(k)) * ext));
  }
  let h = pcg(i ^ pcg(op.seed));
  let j = vec3<f32>(rand01(h), rand01(h + 1u), rand01(h + 2u));
  m = max(m, density_at(lo + j * ext));
  let v = max(density[i] * op.decay, m);
  density[i] = v;
  occ[i] = select(0u, 1u, v > op.threshold);
}
