// Normals from a tetrahedral difference of the density pre-activation (the SDF trick of
// Quilez): with k_i the four vertices of a tetrahedron, (1,1,1), (1,-1,-1), (-1,1,-1),
// (-1,-1,1), sum_i k_i k_i^T = 4 I, so g = sum_i k_i s(p + eps k_i) / (4 eps) estimates the
// gradient from four evaluations instead of central differences' six; n = -g / |g|.
// The forward normal is this quantity exactly, so its gradient needs only four more
// first-order density backward passes (march_bwd writes them as records), no second
// derivatives through the hash grid and the MLP. Overwrites the field's private scratch.
// Only samples whose compositing weight reaches NORMAL_MIN_WEIGHT get a normal (forward and
// backward test the same weight, so the skipped samples are the same in both).

const NORMAL_POINTS: u32 = 4u;
// A sample lighter than this adds at most this much to a pixel's normal (n is unit): the same
// tolerance as the early stop at transmittance 1e-4, and it drops empty space and haze, where
// most samples of a ray are and where the normal is noise anyway.
const NORMAL_MIN_WEIGHT: f32 = 1e-4;

fn density_pre_at(p: vec3<f32>) -> f32 {
  encode(p);
  hidden_forward();
  return density_pre();
}

// Vertex i of the tetrahedron: x and y from the bits of i, z = x * y.
fn tetra_vertex(i: u32) -> vec3<f32> {
  let x = select(1.0, -1.0, (i & 2u) != 0u);
  let y = select(1.0, -1.0, (i & 1u) != 0u);
  return vec3<f32>(x, y, x * y);
}

fn fd_density_gradient(p: vec3<f32>, eps: f32) -> vec3<f32> {
  var g = vec3<f32>(0.0);
  for (var i = 0u; i < NORMAL_POINTS; i++) {
    let k = tetra_vertex(i);
    g += k * density_pre_at(p + eps * k);
  }
  return g / (4.0 * eps);
}
