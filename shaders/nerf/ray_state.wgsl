// Gathers what the backward march needs per ray into one record of 16 floats: final colour
// (with background), depth, alpha, then the cotangents of rgb, depth, alpha, then the final
// normal and its cotangent. Missing cotangents are bound as zero buffers by the host.
#include "lib/dispatch.wgsl"

struct Count { n: u32 }
@group(0) @binding(0) var<uniform> count: Count;
@group(0) @binding(1) var<storage, read> rgb: array<f32>;
@group(0) @binding(2) var<storage, read> alpha: array<f32>;
@group(0) @binding(3) var<storage, read> depth: array<f32>;
@group(0) @binding(4) var<storage, read> normal: array<f32>;
@group(0) @binding(5) var<storage, read> g_rgb: array<f32>;
@group(0) @binding(6) var<storage, read> g_alpha: array<f32>;
@group(0) @binding(7) var<storage, read> g_depth: array<f32>;
@group(0) @binding(8) var<storage, read> g_normal: array<f32>;
@group(0) @binding(9) var<storage, read_write> state: array<f32>;

const STATE: u32 = 16u;

@compute @workgroup_size(64)
fn ray_state(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
             @builtin(local_invocation_index) lid: u32) {
  let i = linear_invocation(wid, nwg, lid, 64u);
  if (i >= count.n) { return; }
  let s = i * STATE;
  for (var c = 0u; c < 3u; c++) {
    state[s + c] = rgb[i * 3u + c];
    state[s + 5u + c] = g_rgb[i * 3u + c];
    state[s + 10u + c] = normal[i * 3u + c];
    state[s + 13u + c] = g_normal[i * 3u + c];
  }
  state[s + 3u] = depth[i];
  state[s + 4u] = alpha[i];
  state[s + 8u] = g_depth[i];
  state[s + 9u] = g_alpha[i];
}
