// Counter-based random numbers for densification: a value depends only on (seed, key,
// channel), so GPU threads need no shared state and src/reference/train/hash-random.ts
// computes the same numbers.
fn pcg_hash(v: u32) -> u32 {
  let state = v * 747796405u + 2891336453u;
  let word = ((state >> ((state >> 28u) + 4u)) ^ state) * 277803737u;
  return (word >> 22u) ^ word;
}

// Uniform in (0, 1) with 24 bits, never 0 (so log is finite).
fn hash_uniform(seed: u32, key: u32, channel: u32) -> f32 {
  let h = pcg_hash(seed ^ pcg_hash(key ^ pcg_hash(channel)));
  return (f32(h >> 8u) + 0.5) / 16777216.0;
}

// Standard normal by Box-Muller from two hashed uniforms.
fn hash_normal(seed: u32, key: u32, channel: u32) -> f32 {
  let u1 = hash_uniform(seed, key, 2u * channel);
  let u2 = hash_uniform(seed, key, 2u * channel + 1u);
  return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}
