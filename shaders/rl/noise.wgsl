// Counter-based Gaussian noise: the same (seed, index) gives the same number on every
// dispatch, so a perturbation is regenerated instead of stored. Mirrored exactly (up to
// f32 log/cos rounding) by src/reference/rl/param-noise.ts.
fn pcg_hash(v: u32) -> u32 {
  let state = v * 747796405u + 2891336453u;
  let word = ((state >> ((state >> 28u) + 4u)) ^ state) * 277803737u;
  return (word >> 22u) ^ word;
}

fn gaussian_noise(seed: u32, index: u32) -> f32 {
  let a = pcg_hash(seed ^ pcg_hash(index));
  let b = pcg_hash(a + 2654435769u);
  // 24-bit uniforms are exact in f32; u1 in (0, 1) keeps the log finite.
  let u1 = (f32(a >> 8u) + 0.5) / 16777216.0;
  let u2 = f32(b >> 8u) / 16777216.0;
  return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}
