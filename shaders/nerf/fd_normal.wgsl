// Normals from central differences of the density pre-activation (threestudio's
// "finite_difference" normals): g_k = (s(p + eps e_k) - s(p - eps e_k)) / (2 eps), n = -g / |g|.
// The forward normal is this quantity exactly, so its gradient needs only six more
// first-order density backward passes (march_bwd writes them as records), no second
// derivatives through the hash grid and the MLP. Overwrites the field's private scratch.

fn density_pre_at(p: vec3<f32>) -> f32 {
  encode(p);
  hidden_forward();
  return density_pre();
}

fn fd_density_gradient(p: vec3<f32>, eps: f32) -> vec3<f32> {
  var g = vec3<f32>(0.0);
  for (var k = 0u; k < 3u; k++) {
    var e = vec3<f32>(0.0);
    e[k] = eps;
    g[k] = (density_pre_at(p + e) - density_pre_at(p - e)) / (2.0 * eps);
  }
  return g;
}
