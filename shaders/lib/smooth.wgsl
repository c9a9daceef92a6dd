// Smooth stand-ins for hard masks and absolute values, for differentiable rewards.
// TypeScript twins: src/rewards/consistency-combine.ts (SMOOTH) and src/math/activations.ts.

// The logistic function; the clamp keeps exp finite (the value is 0 or 1 to f32 precision there).
fn sigmoid(x: f32) -> f32 {
  return 1.0 / (1.0 + exp(-clamp(x, -60.0, 60.0)));
}

// Charbonnier penalty: |x| rounded off within CHARBONNIER of 0, so that its derivative is continuous.
const CHARBONNIER: f32 = 1e-3;

fn charbonnier(x: f32) -> f32 {
  return sqrt(x * x + CHARBONNIER * CHARBONNIER) - CHARBONNIER;
}

fn charbonnier_grad(x: f32) -> f32 {
  return x / sqrt(x * x + CHARBONNIER * CHARBONNIER);
}
