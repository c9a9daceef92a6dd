// Peak FMA throughput probe: every invocation runs four independent vec4 chains of
// dependent FMAs (16 FMAs per iteration), enough independent work to fill the pipes,
// with an iteration count from a uniform so the compiler cannot fold the loop.
#include "lib/dispatch.wgsl"

struct Params {
  iterations: u32,
  invocations: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read_write> sink: array<f32>;

@compute @workgroup_size(256)
fn fma_chain(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
             @builtin(local_invocation_index) lid: u32) {
  let i = linear_invocation(wid, nwg, lid, 256u);
  if (i >= params.invocations) { return; }
  let seed = f32(i & 1023u) * 1e-4;
  var a = vec4<f32>(seed, seed + 0.1, seed + 0.2, seed + 0.3);
  var b = a + vec4<f32>(0.4);
  var c = a + vec4<f32>(0.8);
  var d = a + vec4<f32>(1.2);
  // x <- x * 0.9999 + 0.0001 stays bounded (fixed point 1) and is never constant.
  let k = vec4<f32>(0.9999);
  let e = vec4<f32>(0.0001);
  for (var n = 0u; n < params.iterations; n++) {
    a = fma(a, k, e);
    b = fma(b, k, e);
    c = fma(c, k, e);
    d = fma(d, k, e);
  }
  let s = a + b + c + d;
  sink[i] = s.x + s.y + s.z + s.w;
}
