/** The logistic function: opacity logits to opacities, logits to probabilities. */
export function sigmoid(x: number): number {
  return 1 / (1 + Math.exp(-x));
}
