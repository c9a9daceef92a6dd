// Parameter-space policy kernels for grpo/dpo: perturb a parameter block along seeded
// Gaussian directions, reduce noise·(param - other) dot products, and accumulate the
// policy-gradient estimate into the grad buffer. `offset` places a block inside the
// concatenation of the selected blocks, so the noise index is global.
#include "lib/dispatch.wgsl"
#include "rl/noise.wgsl"

struct PerturbParams { n: u32, offset: u32, seed: u32, scale: f32 }
@group(0) @binding(0) var<uniform> pp: PerturbParams;
@group(0) @binding(1) var<storage, read> base: array<f32>;
@group(0) @binding(2) var<storage, read_write> target_param: array<f32>;

// target = base + scale * noise(seed)
@compute @workgroup_size(64)
fn perturb(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
           @builtin(local_invocation_index) lid: u32) {
  let i = linear_invocation(wid, nwg, lid, 64u);
  if (i >= pp.n) { return; }
  target_param[i] = base[i] + pp.scale * gaussian_noise(pp.seed, pp.offset + i);
}
