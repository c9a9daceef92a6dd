/**
 * Plain-TypeScript reference of shaders/optim/adam.wgsl: one bias-corrected Adam step, in
 * f32 (Math.fround after every operation, as the kernel rounds), in place.
 */

export interface AdamHyper {
  beta1: number;
  beta2: number;
  eps: number;
}

/** The step-dependent factors the host passes to the kernel, rounded to f32. */
export function adamFactors(lr: number, step: number, h: AdamHyper) {
  const f = Math.fround;
  return {
    stepSize: f(lr / (1 - h.beta1 ** step)),
    sqrtBc2: f(Math.sqrt(1 - h.beta2 ** step)),
    beta1: f(h.beta1),
    beta2: f(h.beta2),
    oneMinusBeta1: f(1 - h.beta1),
    oneMinusBeta2: f(1 - h.beta2),
    eps: f(h.eps),
  };
}

/** Applies step number `step` (1-based) to param, m and v. */
export function adamStepReference(
  param: Float32Array,
  grad: Float32Array,
  m: Float32Array,
  v: Float32Array,
  lr: number,
  step: number,
  h: AdamHyper,
): void {
  const f = Math.fround;
  const k = adamFactors(lr, step, h);
  for (let i = 0; i < param.length; i++) {
    const g = grad[i];
    const mi = f(f(k.beta1 * m[i]) + f(k.oneMinusBeta1 * g));
    const vi = f(f(k.beta2 * v[i]) + f(k.oneMinusBeta2 * f(g * g)));
    m[i] = mi;
    v[i] = vi;
    const denom = f(f(f(Math.sqrt(vi)) / k.sqrtBc2) + k.eps);
    param[i] = f(param[i] - f(k.stepSize * f(mi / denom)));
  }
}
