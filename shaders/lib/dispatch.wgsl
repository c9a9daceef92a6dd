// Linear ids for dispatches that the host splits over x and y when they pass 65,535
// workgroups (Gpu.dispatch). Kernels bound-check the result against their element count.
fn linear_workgroup(wid: vec3<u32>, nwg: vec3<u32>) -> u32 {
  return wid.x + wid.y * nwg.x;
}

fn linear_invocation(wid: vec3<u32>, nwg: vec3<u32>, lid: u32, wg_size: u32) -> u32 {
  return linear_workgroup(wid, nwg) * wg_size + lid;
}
