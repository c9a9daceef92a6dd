// The occupancy lookup that lets marching skip empty cells of the (canonical) field. The
// including file declares var<storage> occ: array<u32> beside nerf/ray.wgsl's bindings.

fn occupied(p: vec3<f32>) -> bool {
  if (rp.use_occ == 0u) { return true; }
  let g = f32(rp.occ_res);
  let c = vec3<u32>(clamp(floor(to_unit(p) * g), vec3<f32>(0.0), vec3<f32>(g - 1.0)));
  return occ[c.x + rp.occ_res * (c.y + rp.occ_res * c.z)] != 0u;
}
